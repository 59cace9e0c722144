"""Leave one collection out: train on two collections, test on the third, for each in turn.

The three collections: the 253 Kaggle images (``SKBRAIN_DATA``), the 1,794 of
the four-class collection as tumor / no tumor (``SKBRAIN_DATA_4CLASS``) and
the FLAIR slices of LGG-dev (``SKBRAIN_DATA_LGG``). Every figure is
ROC AUC with a 95 % bootstrap interval over groups (patients for LGG-dev,
duplicate groups elsewhere), balanced accuracy, recall and specificity at the
model's threshold, and recall per tumor type for the 1,794. LGG-dev is also
scored on its mid-brain slices (the head covers at least 40 % of the image).

Parts (``--parts``, in the order given; each writes its results as it ends):

``loco``
    leave-one-collection-out for every recipe of ``--recipes``; each held-out
    image's probability goes to ``*_loco_scores.npz`` beside ``--output``
    (``recipe/held-out/seedN``, in the arrays' order) for pooling seeds later;
    ``--loco-tta`` also scores each fold model with a flipped view averaged in
    (``roc_auc_tta``; probabilities under ``.../seedN/tta1``).
``split``
    one model trained on the training parts of grouped 75/25 splits of all
    three collections against a specialist trained on each collection's
    training part alone, both scored on each test part (``--seeds``); the
    union decides at ``--threshold`` when one is given (``auto`` after the
    threshold part), the specialists at 0.5 (``--split-union-only``: none).
``few``
    fine-tuning from the ``--few-from`` recipe's model trained without
    LGG-dev on k LGG-dev patients (k = 2, 5, 10, 20; ``--few-repeats`` draws
    each), threshold chosen on those patients' images, scored on the other
    patients; beside it the same recipe trained on the k patients alone
    (``--few-replay``: also the fine-tune with as many of the base's own
    training images mixed in; ``--load-base``: start from a saved base;
    ``--few-fine-tune``: other fine-tuning parameters than 10 epochs at lr
    3e-4; ``--few-starts``: only these starts; ``--few-threshold-cv``: also the
    threshold ``adapt_pretrained`` chooses, on out-of-fold probabilities of
    grouped folds of the k patients, the scores at it and the k patients'
    own out-of-fold ROC AUC; ``--few-tta``: also every ROC AUC with a flipped
    view averaged in; ``--few-ensemble N``: every fine-tune a soft vote of N
    seeds).
``threshold``
    the decision threshold of the ``--final`` recipe trained on all three
    collections, chosen by grouped 3-fold cross-validation on their union:
    each fold trains on the others and predicts its own images, and the
    threshold that maximises the mean over the collections of balanced
    accuracy on these out-of-fold probabilities is kept (with each
    collection's scores at 0.5 and at the chosen threshold, and what the
    choice is worth on unseen images: each fold scored at the threshold
    chosen on the other folds). The out-of-fold probabilities are saved
    beside ``--output`` (``*_threshold_oof.npz``).
``specialists``
    one model as good as each specialist? On the threshold part's folds, the
    ``--final`` recipe fitted on each collection's training part alone,
    scored out of fold on that collection beside the union's out-of-fold
    scores (when the threshold part ran before it): a cross-validated
    version of ``split`` that uses every patient as a test patient once.
``institutions``
    LGG-dev's institutions left out one at a time (those with at least five
    patients; the institution is ``TCGA_<institution>_<id>`` of the patient):
    the ``--final`` recipe trained on everything else of the three collections,
    LGG-dev's other institutions included, scored on the one left out (all and
    mid-brain slices). The patients kept from the developers are of LGG-dev's
    archive but other institutions, so this, not grouped cross-validation
    (whose training folds hold patients of the test patients' institutions),
    is the closer view of them. Each left-out image's probability and its
    position in LGG-dev's arrays go to ``*_institutions_scores.npz``
    (``recipe/institution/seedN`` and ``.../index``). ``--institutions-alone``
    trains on LGG-dev's other institutions only: the specialist's view.
``final``
    the ``--final`` recipe trained on every image of the three collections,
    saved as a Pipeline that takes image paths (``--save``), deciding at
    ``--threshold`` (a number, or ``auto``: the threshold part's choice).

A recipe is a model name with its parameters and, with ``balance``, the
training collections resampled to equal size. ``--set`` adds parameters to
every recipe (``batch_size=64 amp=False`` on a GPU). Nothing here is chosen
by a test part: recipes are compared by the collection left out.

Images are read once: ``--prepare FILE.npz`` writes the resized arrays
(one channel, uint8) and the near-copies across collections; ``--arrays
FILE.npz`` reads them back (the GPU machine has no image folders).

Usage::

    python benchmarks/bench_sites.py --recipes lite0,compact --parts loco
    python benchmarks/bench_sites.py --prepare /tmp/sites150.npz
    python benchmarks/bench_sites.py --arrays /tmp/sites150.npz --parts loco,few,final \\
        --recipes lite0-recipe,lite0 --set batch_size=64 amp=False --save /tmp/detector.skbrain
"""

import argparse
import os
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_dir, env_data_dir, parse_set, write_json  # noqa: E402
from sklearn.utils import Bunch  # noqa: E402

from skbrain import ImageResizer, get_estimator  # noqa: E402
from skbrain.evaluation import ResultsTable  # noqa: E402
from skbrain.sites import (  # noqa: E402
    SITE_METRICS,
    balanced_collection_indices,
    leave_one_collection_out,
    site_scores,
)
from skbrain.thresholds import decide_at  # noqa: E402

COLLECTIONS = ("brain_mri", "tumor_mri_1794", "lgg_flair_dev")
LOCO_ORDER = ("lgg_flair_dev", "tumor_mri_1794", "brain_mri")
MID_BRAIN = 0.4
THRESHOLD_METRICS = tuple(f"{m}_at_{t}" for t in ("0.5", "chosen")
                          for m in ("balanced_accuracy", "recall", "specificity")) + (
    "balanced_accuracy_nested", "nested_gain", "nested_gain_low", "nested_gain_high")
#: The few part's scores at the threshold chosen out of fold (``--few-threshold-cv``).
FEW_CV_METRICS = ("threshold_cv", "balanced_accuracy_at_cv", "recall_at_cv",
                  "specificity_at_cv")
#: The few part's other rankings: the k patients' own out-of-fold ROC AUC
#: (``--few-threshold-cv``) and each ROC AUC with a flipped view (``--few-tta``).
FEW_RANK_METRICS = ("roc_auc_inner_cv", "roc_auc_tta", "roc_auc_inner_cv_tta")

#: name -> (model, parameters, balance (False, True or "collection_and_class", as
#: leave_one_collection_out takes it, or a dict of collection weights: balanced by
#: collection with those weights)[, ImageResizer parameters])
RECIPES = {
    "lite0": ("timm:efficientnet_lite0", {}, False),
    "lite0-balanced": ("timm:efficientnet_lite0", {}, True),
    "lite0-recipe": ("timm:efficientnet_lite0",
                     {"max_epochs": 15, "augment_intensity": 0.3}, True),
    # Larger ImageNet backbones (skbrain[lite-weights]), for a GPU.
    "lite1-recipe": ("timm:efficientnet_lite1",
                     {"max_epochs": 15, "augment_intensity": 0.3}, True),
    "lite1-lesions": ("timm:efficientnet_lite1",
                      {"max_epochs": 15, "augment_intensity": 0.3, "augment_lesions": 0.25}, True),
    "compact": ("compact", {}, False),
    "compact-recipe": ("compact", {"augment_intensity": 0.3}, True),
    "compact-lesions": ("compact", {"augment_intensity": 0.3, "augment_lesions": 0.25}, True),
    "compact-lesions-60": ("compact", {"augment_intensity": 0.3, "augment_lesions": 0.25,
                                       "max_epochs": 60}, True),
    # compact-lesions-60 with the head slices of HEAD_SLICE_RECIPES.
    "compact-heads-60": ("compact", {"augment_intensity": 0.3, "augment_lesions": 0.25,
                                     "max_epochs": 60}, True),
    # compact-heads-60 with LGG-dev weighing twice each other collection (session 56's rule;
    # not adopted: benchmarks README, "LGG-dev weighing twice").
    "compact-heads-60-lgg2": ("compact", {"augment_intensity": 0.3, "augment_lesions": 0.25,
                                          "max_epochs": 60}, {"lgg_flair_dev": 2}),
    "compact-mirror": ("compact", {"augment_intensity": 0.3}, True,
                       {"mirror_difference": True}),
    "compact-mirror-cb": ("compact", {"augment_intensity": 0.3}, "collection_and_class",
                          {"mirror_difference": True}),
    "lite0-mirror": ("timm:efficientnet_lite0", {"max_epochs": 15, "augment_intensity": 0.3},
                     True, {"mirror_difference": True}),
    "two-conv": ("two-conv", {}, False),
    "wide": ("wide", {}, False),
    "deep": ("deep", {}, False),
    "pyramid": ("pyramid", {}, False),
    "simple": ("simple", {}, False),
}


#: Recipes that also train on every axial slice of two tumor-free head volumes
#: (head_volumes.py), joined to the tumor-free class of the largest training collection and
#: never scored (marked ``train_only``).
HEAD_SLICE_RECIPES = ("compact-heads-60", "compact-heads-60-lgg2")
#: Where the head volumes are (``--head-volumes``; None: head_volumes.default_folder()).
HEAD_FOLDER = None


def load_paths():
    """The three collections as file paths, with near-copies across them marked."""
    from skbrain import load_brain_mri
    from skbrain.datasets import load_lgg_flair
    from skbrain.evaluation import cross_collection_near_copies

    small = load_brain_mri(data_dir())
    large = load_brain_mri(env_data_dir("SKBRAIN_DATA_4CLASS", "brain_tumor_mri_4class",
                                    "notumor"), negative="notumor")
    lgg = load_lgg_flair(env_data_dir("SKBRAIN_DATA_LGG", "lgg_flair_dev", "MANIFEST.csv"))
    found = dict(zip(COLLECTIONS, (small, large, lgg), strict=True))
    for name, bunch in found.items():
        others = [p for n, b in found.items() if n != name for p in b.data]
        bunch.near_copy = cross_collection_near_copies(others, bunch.data, n_jobs=-1)
        print(f"{name}: {len(bunch.data)} images, {int(bunch.near_copy.sum())} with a "
              "near-copy in another collection", flush=True)
    return found


def prepare(path, image_size):
    found = load_paths()
    resizer = ImageResizer(image_size, channels=1, dtype="uint8", n_jobs=-1)
    arrays = {}
    for name, bunch in found.items():
        start = time.perf_counter()
        arrays[f"{name}.X"] = resizer.transform(bunch.data)
        print(f"{name}: resized in {time.perf_counter() - start:.0f} s", flush=True)
        for key in ("target", "groups", "near_copy", "original_target", "head_fraction",
                    "patient", "target_names", "original_target_names"):
            if key in bunch:
                arrays[f"{name}.{key}"] = np.asarray(bunch[key])
    np.savez_compressed(path, **arrays)
    print(f"wrote {path} ({os.path.getsize(path) / 2**20:.1f} MiB)")


def load_arrays(path):
    """The collections as 3-channel uint8 arrays, near-copies across collections left out."""
    saved = np.load(path)
    found = {}
    for name in COLLECTIONS:
        fields = {k.split(".", 1)[1]: saved[k] for k in saved.files
                  if k.startswith(name + ".")}
        n = len(fields["near_copy"])
        bunch = _without_near_copies(Bunch(**fields))
        bunch["data"] = np.repeat(bunch.pop("X"), 3, axis=1)
        found[name] = bunch
        print(f"{name}: {n} images, {n - len(bunch.target)} near-copies of another "
              "collection left out", flush=True)
    return found


def _without_near_copies(bunch):
    """Every per-image field of ``bunch`` without the images marked ``near_copy``."""
    return subset(bunch, ~bunch.pop("near_copy"))


def subset(bunch, keep):
    """``bunch`` with every per-image array (one row per image) cut to the images ``keep``."""
    for key in [k for k, v in bunch.items() if isinstance(v, np.ndarray)
                and v.shape[:1] == keep.shape]:
        bunch[key] = bunch[key][keep]
    return bunch


def resized(found, image_size):
    """:func:`load_paths`' collections as uint8 arrays, near-copies across them left out."""
    resizer = ImageResizer(image_size, dtype="uint8", n_jobs=-1)
    for bunch in found.values():
        _without_near_copies(bunch).data = resizer.transform(bunch.data)
    return found


def estimator(recipe, extra, **more):
    model, params = RECIPES[recipe][:2]
    return get_estimator(model, **{**params, **extra, **more})


def balance_args(recipe):
    """The recipe's ``balance`` as leave_one_collection_out's ``balance`` and ``weights``."""
    balance = RECIPES[recipe][2]
    if isinstance(balance, dict):
        return {"balance": True, "weights": balance}
    return {"balance": balance, "weights": None}


def balanced(recipe, collection, y, seed):
    """Training positions for the recipe's ``balance`` (all of them when it has none);
    ``collection``: indices into COLLECTIONS."""
    args = balance_args(recipe)
    if not args["balance"]:
        return np.arange(len(y))
    weights = {COLLECTIONS.index(n): w for n, w in (args["weights"] or {}).items()
               if COLLECTIONS.index(n) in collection}
    by_class = y if args["balance"] == "collection_and_class" else None
    return balanced_collection_indices(collection, y=by_class, weights=weights,
                                       random_state=seed)


def resizer_params(recipe):
    """The recipe's ImageResizer parameters beyond the defaults the arrays were made with."""
    return RECIPES[recipe][3] if len(RECIPES[recipe]) > 3 else {}


_VIEWS = {}


def for_recipe(found, recipe, held_out=None):
    """``found`` as the recipe trains on it: for a head-slice recipe, with the head slices in
    the largest collection but ``held_out``; the arrays with its resizer's extra parameters."""
    params = resizer_params(recipe)
    heads = recipe in HEAD_SLICE_RECIPES
    if not params and not heads:
        return found
    key = (id(found), tuple(sorted(params.items())), heads and held_out)
    if key not in _VIEWS:
        view = found
        if heads:
            import head_volumes

            into = max((name for name in found if name != held_out),
                       key=lambda name: len(found[name].target))
            view = head_volumes.with_head_volumes(found, head_volumes.fetch(HEAD_FOLDER), into)
        if params:
            # The arrays are already cropped, resized and standardised: only the extra applies.
            redo = ImageResizer(next(iter(found.values())).data.shape[-1],
                                crop_foreground=False, standardize=None, dtype="uint8",
                                n_jobs=-1, **params)
            view = {name: Bunch(**{**bunch, "data": redo.transform(bunch.data)})
                    for name, bunch in view.items()}
        # ``found`` is kept with its view so that its id cannot be reused by another dict.
        _VIEWS[key] = (found, view)
    return _VIEWS[key][1]


def loco_subsets(found):
    """The extra rows of every leave-one-collection-out run: LGG-dev's mid-brain slices."""
    return {"lgg_flair_dev": {"mid-brain": found["lgg_flair_dev"].head_fraction >= MID_BRAIN}}


def run_loco(found, recipes, extra, seed, results, models, deadline=None, held_out=None,
             scores=None, tta=False):
    for recipe in recipes:
        if deadline is not None and time.perf_counter() > deadline:
            print(f"time budget spent; {recipe} not run", flush=True)
            continue
        print(f"== leave one collection out: {recipe}", flush=True)
        # LGG-dev first: the fold furthest from what any skbrain model has seen. A head-slice
        # recipe's slices join a training collection, so that recipe trains one fold at a time.
        folds = ([[name] for name in sorted(found, key=LOCO_ORDER.index)
                  if held_out is None or name in held_out]
                 if recipe in HEAD_SLICE_RECIPES else [held_out])
        models[recipe] = {}
        for fold in folds:
            view = for_recipe(found, recipe, fold and fold[0])
            subsets = loco_subsets(view)
            ordered = {name: view[name] for name in sorted(view, key=LOCO_ORDER.index)}
            out = leave_one_collection_out(
                estimator(recipe, extra, random_state=seed), ordered,
                **balance_args(recipe), subsets=subsets, drop_near_copies=False,
                random_state=seed, return_models=True, held_out=fold)
            records = [{**r, "recipe": recipe, "seed": seed} for r in out.records]
            if tta:
                _score_flipped(out, view, subsets, records, scores,
                               f"{recipe}/{{}}/seed{seed}/tta1")
            results["loco"] += records
            models[recipe].update(out.models)
            if scores is not None:
                # Kept so that runs of several seeds can be pooled (a seed ensemble) or
                # re-scored later without training again.
                for name, proba in out.proba.items():
                    scores[f"{recipe}/{name}/seed{seed}"] = proba.astype(np.float32)


def _score_flipped(out, view, subsets, records, scores, key):
    """Each record's ROC AUC with the flipped view averaged in (``tta=1``), as
    ``roc_auc_tta``: the same fitted fold models, predicting again."""
    from sklearn.metrics import roc_auc_score

    for name, model in out.models.items():
        own = _tta_of(model)
        proba = _set_tta(model, 1).predict_proba(view[name].data)[:, 1]
        _set_tta(model, own)
        if scores is not None:
            scores[key.format(name)] = proba.astype(np.float32)
        y = view[name].target
        for r in records:
            if r["held_out"] == name:
                mask = subsets.get(name, {}).get(r["subset"], np.ones(len(y), bool))
                r["roc_auc_tta"] = float(roc_auc_score(y[mask], proba[mask]))
                print(f"  {name} ({r['subset']}): ROC AUC {r['roc_auc']:.3f}, with the flipped "
                      f"view {r['roc_auc_tta']:.3f}", flush=True)


def run_split(found, recipe, extra, seeds, results, threshold=None, specialists=True):
    """The union against each collection alone on grouped 75/25 splits.

    ``threshold``: the union's decision threshold (its rows' balanced accuracy, recall
    and specificity), e.g. the threshold part's; specialists decide at 0.5.
    """
    from skbrain.evaluation import train_test_split_grouped

    found = for_recipe(found, recipe)
    for seed in seeds:
        parts = {}
        for name, bunch in found.items():
            # As in union_folds: the train_only images take no part in the split and are in
            # every training part, so the split is that of the collection without them.
            only = bunch.get("train_only", np.zeros(len(bunch.target), bool))
            scored = np.flatnonzero(~only)
            train, test = train_test_split_grouped(scored, bunch.target[scored],
                                                   bunch.groups[scored], test_size=0.25,
                                                   random_state=seed)[:2]
            parts[name] = (_with_train_only(train, only), test)
        union_idx = [(name, i) for name in found for i in parts[name][0]]
        collection = np.array([COLLECTIONS.index(n) for n, _ in union_idx])
        y = np.array([found[n].target[i] for n, i in union_idx])
        order = balanced(recipe, collection, y, seed)
        X = np.stack([found[n].data[i] for n, i in union_idx])[order]
        y = y[order]
        print(f"== split {seed}: {recipe} on the union of the training parts", flush=True)
        union = estimator(recipe, extra, random_state=seed).fit(X, y)
        for name, bunch in found.items():
            train, test = parts[name]
            models = {"union": union}
            if specialists:
                models["specialist"] = estimator(recipe, extra, random_state=seed).fit(
                    bunch.data[train], bunch.target[train])
            for label, model in models.items():
                proba = model.predict_proba(bunch.data[test])[:, 1]
                t = threshold if label == "union" and threshold is not None else 0.5
                scores = site_scores(bunch.target[test], proba, (proba >= t).astype(int),
                                     bunch.groups[test], random_state=seed)
                results["split"].append({"model": f"{name}: {label}", "recipe": recipe,
                                         "seed": seed, "collection": name, "trained": label,
                                         "threshold": t, **scores})
                print(f"  {name} {label}: ROC AUC {scores['roc_auc']:.3f}, balanced accuracy "
                      f"{scores['balanced_accuracy']:.3f}", flush=True)


def _threshold(y, proba):
    """The threshold that maximises balanced accuracy on the few labelled images."""
    from sklearn.metrics import roc_curve

    fpr, tpr, thresholds = roc_curve(y, proba)
    best = np.argmax(tpr - fpr)
    return float(min(thresholds[best], 1.0))


FEW_FINE_TUNE = {"max_epochs": 10, "lr": 3e-4}


def few_model(recipe, extra, random_state, ensemble=1, **params):
    """One fine-tune, or the soft vote of ``ensemble`` fine-tunes of seeds
    ``random_state``, ``+ 100``, ``+ 200``... (the first is the single one),
    built as :func:`skbrain.weights.adapt_pretrained` builds its vote."""
    from skbrain.weights import _seed_vote

    return _seed_vote(estimator(recipe, extra, random_state=random_state, **params), ensemble)


def _tta_of(model):
    """``tta`` of a fitted fine-tune, or of a vote's members (all alike)."""
    return getattr(model, "estimators_", [model])[0].tta


def _set_tta(model, tta):
    """``tta`` of a fitted fine-tune, or of each fitted member of a vote."""
    for member in getattr(model, "estimators_", [model]):
        member.set_params(tta=tta)
    return model


def _at_threshold(y, proba, t, label):
    """Balanced accuracy, recall and specificity deciding at ``t``, keyed ``*_at_<label>``."""
    from sklearn.metrics import balanced_accuracy_score, recall_score

    decided = proba >= t
    return {f"balanced_accuracy_at_{label}": balanced_accuracy_score(y, decided),
            f"recall_at_{label}": recall_score(y, decided),
            f"specificity_at_{label}": recall_score(y, decided, pos_label=0)}


def _cv_oof(make, X, y, groups, seed, more_X=None, more_y=None, ttas=(0,)):
    """Out-of-fold probabilities of the grouped folds :func:`_cv_threshold` uses, per ``tta``.

    Each fold's model is fitted once and scored with every number of extra
    test-time views in ``ttas``.
    """
    from skbrain.weights import _threshold_folds

    proba = {t: np.empty(len(y)) for t in ttas}
    for fit, held in _threshold_folds(y, groups, 3, seed):
        X_fit, y_fit = X[fit], y[fit]
        if more_X is not None:
            X_fit, y_fit = np.concatenate([X_fit, more_X]), np.concatenate([y_fit, more_y])
        model = make().fit(X_fit, y_fit)
        for t in ttas:
            if ttas != (0,):
                _set_tta(model, t)
            proba[t][held] = model.predict_proba(X[held])[:, 1]
    return proba


def _cv_threshold(make, X, y, groups, seed, more_X=None, more_y=None):
    """The threshold :func:`skbrain.weights.adapt_pretrained` chooses, on arrays.

    Its grouped folds of the k patients: each fold fine-tuned on the other
    patients (and the replayed images, never scored), balanced accuracy
    maximised on the out-of-fold probabilities.
    """
    return _threshold(y, _cv_oof(make, X, y, groups, seed, more_X, more_y)[0])


def few_draw(patients, k, repeat):
    """The ``repeat``-th draw of ``k`` labelled patients, the same in every run."""
    return np.random.RandomState(1000 * k + repeat).choice(patients, size=k, replace=False)


def run_few(found, base, recipe, extra, repeats, results, ks=(2, 5, 10, 20), done=None,
            replay=False, fine_tune=None, only=None, score_sources=False, threshold_cv=False,
            tta=False, ensemble=1):
    from sklearn.metrics import roc_auc_score

    view = for_recipe(found, recipe)
    lgg = view["lgg_flair_dev"]
    patients = np.unique(lgg.groups)
    fine_tune = {**(FEW_FINE_TUNE if fine_tune is None else fine_tune), "init_from": base}
    # (name, estimator parameters, whether the base's own training images are mixed in)
    starts = [("shipped-without-lgg", fine_tune, False), ("own-data-only", {}, False)]
    if replay:
        starts.insert(1, ("shipped-without-lgg + replay", fine_tune, True))
        # The base model's own training images (the other collections).
        source = [view[n] for n in view if n != "lgg_flair_dev"]
        source_X = np.concatenate([b.data for b in source])
        source_y = np.concatenate([b.target for b in source])
    if only is not None:
        starts = [s for s in starts if s[0] in only]
    for k in ks:
        for r in range(repeats):
            chosen = few_draw(patients, k, r)
            train = np.isin(lgg.groups, chosen)
            test = ~train
            if len(np.unique(lgg.target[train])) < 2:
                continue
            for start, kwargs, with_replay in starts:
                X, y = lgg.data[train], lgg.target[train]
                more = (None, None)
                if with_replay:
                    # As many images of the base's own collections as the new site gives,
                    # drawn anew per repeat, so the fine-tune does not forget them.
                    pick = np.random.RandomState(r).choice(len(source_y), size=len(y),
                                                           replace=False)
                    more = source_X[pick], source_y[pick]
                    X, y = np.concatenate([X, more[0]]), np.concatenate([y, more[1]])
                make = partial(few_model, recipe, extra, r,
                               ensemble=ensemble if start != "own-data-only" else 1, **kwargs)
                model = make().fit(X, y)
                threshold = _threshold(lgg.target[train],
                                       model.predict_proba(lgg.data[train])[:, 1])
                proba = model.predict_proba(lgg.data[test])[:, 1]
                scores = site_scores(lgg.target[test], proba, (proba >= threshold).astype(int),
                                     lgg.groups[test], random_state=r)
                ttas = (0, 1) if tta else (0,)
                if tta:
                    # The same model with a horizontally flipped view averaged in, then its
                    # own setting back for what is scored after.
                    own = _tta_of(model)
                    scores["roc_auc_tta"] = float(roc_auc_score(
                        lgg.target[test], _set_tta(model, 1).predict_proba(
                            lgg.data[test])[:, 1]))
                    _set_tta(model, own)
                if threshold_cv:
                    oof = _cv_oof(make, lgg.data[train], lgg.target[train], lgg.groups[train], r,
                                  *more, ttas=ttas)
                    t = _threshold(lgg.target[train], oof[0])
                    # How the k patients themselves rank out of fold: a figure that can choose
                    # between fine-tunes without looking at the other patients.
                    inner = {("roc_auc_inner_cv" + ("_tta" if v else "")):
                             float(roc_auc_score(lgg.target[train], oof[v])) for v in ttas}
                    scores.update({"threshold_cv": t, **inner,
                                   **_at_threshold(lgg.target[test], proba, t, "cv")})
                # What the fine-tune kept of the collections the base was trained on
                # (the base saw them all: a retention check, not a new site).
                kept = {name: float(roc_auc_score(view[name].target,
                                                  model.predict_proba(view[name].data)[:, 1]))
                        for name in view if score_sources and name != "lgg_flair_dev"}
                scores.update({f"roc_auc_{name}": v for name, v in kept.items()})
                results["few"].append({"model": f"k={k} {start}", "recipe": recipe, "k": k,
                                       "repeat": r, "start": start, "threshold": threshold,
                                       **({"ensemble": ensemble}
                                          if ensemble > 1 and start != "own-data-only" else {}),
                                       "fine_tune": {k_: v for k_, v in kwargs.items()
                                                     if k_ != "init_from"}, **scores})
                print(f"  k={k} repeat {r} {start}: ROC AUC {scores['roc_auc']:.3f}, balanced "
                      f"accuracy {scores['balanced_accuracy']:.3f} at {threshold:.2f}"
                      + (f", {scores['balanced_accuracy_at_cv']:.3f} at "
                         f"{scores['threshold_cv']:.2f} (out of fold)" if threshold_cv else "")
                      + "".join(f", {name} {v:.3f}" for name, v in kept.items())
                      + "".join(f", {m} {scores[m]:.3f}" for m in FEW_RANK_METRICS
                                if m in scores), flush=True)
        if done is not None:
            done()


def _with_train_only(train, only):
    """The positions ``train`` and every position marked in ``only`` (``train_only`` images
    take no part in a split and join every training part), sorted."""
    return np.sort(np.concatenate([train, np.flatnonzero(only)]))


def stacked_train_only(found):
    """Each image's ``train_only`` mark (head slices: trained on, never scored), stacked."""
    return np.concatenate([found[n].get("train_only", np.zeros(len(found[n].target), bool))
                           for n in found])


def stacked(found):
    """The collections as one: their names, each image's collection index, images, labels."""
    names, collection, y = stacked_labels(found)
    return names, collection, np.concatenate([found[n].data for n in names]), y


def stacked_labels(found):
    """:func:`stacked` without the images (no copy of them)."""
    names = list(found)
    collection = np.concatenate([np.full(len(found[n].target), k) for k, n in enumerate(names)])
    return names, collection, np.concatenate([found[n].target for n in names])


def threshold_arg(text):
    """``--threshold``: ``auto`` or a number (bench_sites and train_detector take the same)."""
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: a number or 'auto'") from None


def union_folds(found, seed, n_splits=3):
    """Grouped folds of the stacked collections, the same for the threshold and specialists.

    Stratified by (collection, class) so that every fold holds a share of each collection.
    The images marked ``train_only`` are in every fold's training part and take no part in
    the split, so the folds are those of the collections without them.
    """
    from skbrain.model_selection import grouped_cv

    names, collection, y = stacked_labels(found)
    only = stacked_train_only(found)
    scored = np.flatnonzero(~only)
    # The split reads only how many images there are, not the images.
    folds = grouped_cv(n_splits, random_state=seed).split(
        np.zeros((len(scored), 1)), (2 * collection + y)[scored], stacked_groups(found)[scored])
    return [(_with_train_only(scored[train], only), scored[test]) for train, test in folds]


def stacked_groups(found):
    """Each image's group in :func:`stacked` order, named by its collection too."""
    return np.concatenate([[f"{n}:{g}" for g in found[n].groups] for n in found])


def run_threshold(found, recipe, extra, seed, results, n_splits=3):
    """The recipe's threshold on all three collections, by grouped cross-validation.

    Returns the threshold and the out-of-fold probabilities (in :func:`stacked` order;
    NaN for the images marked ``train_only``).
    """
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score

    found = for_recipe(found, recipe)
    names, collection, X, y = stacked(found)
    proba = np.full(len(y), np.nan)
    fold = np.full(len(y), -1)
    for k, (train, test) in enumerate(union_folds(found, seed, n_splits)):
        print(f"== threshold: {recipe}, fold {k + 1} of {n_splits} ({len(test)} images held "
              "out)", flush=True)
        order = train[balanced(recipe, collection[train], y[train], seed)]
        model = estimator(recipe, extra, random_state=seed).fit(X[order], y[order])
        proba[test] = model.predict_proba(X[test])[:, 1]
        fold[test] = k
    scored = ~stacked_train_only(found)
    masks = [(collection == k) & scored for k in range(len(names))]

    def mean_balanced_accuracy(t, among=True):
        return np.mean([balanced_accuracy_score(y[m & among], proba[m & among] >= t)
                        for m in masks])

    grid = np.round(np.arange(0.02, 0.99, 0.01), 2)
    scores = [mean_balanced_accuracy(t) for t in grid]
    chosen = float(grid[int(np.argmax(scores))])
    # What choosing is worth on images it did not see: each fold decides at the
    # threshold chosen on the other folds' out-of-fold probabilities.
    nested = np.zeros(len(y), dtype=bool)
    fold_thresholds = []
    for k in range(n_splits):
        others = fold != k
        t = float(grid[int(np.argmax([mean_balanced_accuracy(g, others) for g in grid]))])
        fold_thresholds.append(t)
        nested[fold == k] = proba[fold == k] >= t
    for name, m in zip(names, masks, strict=True):
        row = {"model": f"{name} (out of fold)", "recipe": recipe, "seed": seed,
               "collection": name, "n": int(m.sum()), "chosen_threshold": chosen,
               "roc_auc": roc_auc_score(y[m], proba[m]),
               "balanced_accuracy_nested": balanced_accuracy_score(y[m], nested[m]),
               "nested_thresholds": fold_thresholds}
        for label, t in (("0.5", 0.5), ("chosen", chosen)):
            row.update(_at_threshold(y[m], proba[m], t, label))
        results["threshold"].append(row)
        print(f"  {name}: ROC AUC {row['roc_auc']:.3f}; balanced accuracy "
              f"{row['balanced_accuracy_at_0.5']:.3f} at 0.5, "
              f"{row['balanced_accuracy_at_chosen']:.3f} at {chosen:.2f}, "
              f"{row['balanced_accuracy_nested']:.3f} chosen on the other folds", flush=True)
    gain = nested_gain(y[scored], proba[scored] >= 0.5, nested[scored], collection[scored],
                       stacked_groups(found)[scored], seed)
    for row in results["threshold"][-len(names):]:
        row.update({f"nested_gain{k}": v for k, v in gain.items()})
    print(f"threshold: {chosen:.2f} (mean balanced accuracy {max(scores):.3f}, at 0.5 "
          f"{mean_balanced_accuracy(0.5):.3f}; chosen on the other folds, at "
          f"{', '.join(f'{t:.2f}' for t in fold_thresholds)}: {gain['']:+.3f} "
          f"({gain['_low']:+.3f} to {gain['_high']:+.3f}))", flush=True)
    return chosen, proba


def nested_gain(y, at_half, nested, collection, groups, seed, n_bootstrap=1000):
    """The mean over collections of balanced accuracy, ``nested`` minus ``at_half``.

    With a 95 % interval from resampling each collection's groups (patients) with
    replacement, the collections independently.
    """
    from sklearn.metrics import balanced_accuracy_score

    def gain(idx):
        return np.mean([balanced_accuracy_score(y[i], nested[i])
                        - balanced_accuracy_score(y[i], at_half[i]) for i in idx])

    parts = [np.flatnonzero(collection == c) for c in np.unique(collection)]
    rng = np.random.RandomState(seed)
    draws = []
    for _ in range(n_bootstrap):
        idx = []
        for part in parts:
            names, inverse = np.unique(groups[part], return_inverse=True)
            chosen = np.bincount(rng.randint(len(names), size=len(names)), minlength=len(names))
            i = part[np.repeat(np.arange(len(part)), chosen[inverse])]
            if len(np.unique(y[i])) == 2:
                idx.append(i)
        if len(idx) == len(parts):
            draws.append(gain(idx))
    low, high = np.percentile(draws, [2.5, 97.5]) if draws else (np.nan, np.nan)
    return {"": float(gain(parts)), "_low": float(low), "_high": float(high)}


def run_specialists(found, recipe, extra, seed, results, union=None, n_splits=3):
    """Each collection alone against the union, out of fold on the threshold part's folds.

    A specialist is the recipe fitted on one collection's training part of a fold;
    ``union`` (the threshold part's out-of-fold probabilities, when it ran) adds the
    union's rows with the same intervals.
    """
    found = for_recipe(found, recipe)
    names, collection, X, y = stacked(found)
    proba = np.full(len(y), np.nan)
    for k, (train, test) in enumerate(union_folds(found, seed, n_splits)):
        for c, name in enumerate(names):
            fit = train[collection[train] == c]
            held = test[collection[test] == c]
            print(f"== specialists: {recipe} on {name} alone, fold {k + 1} of {n_splits} "
                  f"({len(fit)} images)", flush=True)
            model = estimator(recipe, extra, random_state=seed).fit(X[fit], y[fit])
            proba[held] = model.predict_proba(X[held])[:, 1]
    trained = {"specialist": proba} if union is None else {"union": union,
                                                           "specialist": proba}
    scored = ~stacked_train_only(found)
    for c, name in enumerate(names):
        m = (collection == c) & scored
        for label, p in trained.items():
            scores = site_scores(y[m], p[m], None, stacked_groups(found)[m],
                                 random_state=seed)
            results["specialists"].append({"model": f"{name}: {label} (out of fold)",
                                           "recipe": recipe, "seed": seed,
                                           "collection": name, "trained": label, **scores})
            print(f"  {name} {label}: ROC AUC {scores['roc_auc']:.3f} "
                  f"({scores['roc_auc_low']:.3f}-{scores['roc_auc_high']:.3f}), balanced "
                  f"accuracy {scores['balanced_accuracy']:.3f}", flush=True)


def best_recipe(loco):
    """The recipe with the highest mean ROC AUC over the collections left out (all images)."""
    means = {}
    for r in loco:
        if r["subset"] == "all":
            means.setdefault(r["recipe"], []).append(r["roc_auc"])
    scores = {recipe: float(np.mean(v)) for recipe, v in means.items()
              if len(v) == len(COLLECTIONS)}
    if not scores:
        raise SystemExit("--final auto needs a finished leave-one-collection-out run")
    best = max(scores, key=scores.get)
    print(f"best recipe by leave-one-collection-out: {best} (mean ROC AUC {scores[best]:.3f}; "
          + ", ".join(f"{k} {v:.3f}" for k, v in scores.items()) + ")", flush=True)
    return best


def institution(patient):
    """The TCGA tissue-source site of a patient id ``TCGA_<institution>_<id>``."""
    parts = str(patient).split("_")
    if len(parts) < 3 or parts[0] != "TCGA":
        raise ValueError(f"patient {patient!r}: expected TCGA_<institution>_<id>")
    return parts[1]


def run_institutions(found, recipe, extra, seed, results, scores=None,
                     collection="lgg_flair_dev", min_patients=5, alone=False):
    """``collection``'s institutions left out one at a time, everything else trained on.

    ``scores`` (a dict) receives each left-out image's probability and its position in
    ``collection``'s arrays (``recipe/institution/seedN`` and ``.../index``), so that two
    recipes can be compared on the same patients. ``alone``: trained on ``collection``'s
    other institutions only (the specialist's view; the recipe named ``recipe@alone``).
    """
    if "patient" not in found[collection]:
        raise SystemExit(f"{collection}: the arrays hold no patient ids; make them again with "
                         "--prepare")
    found = for_recipe(found, recipe)
    names, where, X, y = stacked(found)
    groups = stacked_groups(found)
    c = names.index(collection)
    mid = np.zeros(len(y), dtype=bool)
    mid[where == c] = found[collection].head_fraction >= MID_BRAIN
    site = np.full(len(y), "", dtype=object)
    site[where == c] = [institution(p) for p in found[collection].patient]
    patients = {s: len(np.unique(groups[site == s])) for s in np.unique(site[where == c])}
    name = f"{recipe}@alone" if alone else recipe
    for left_out in sorted(s for s, n in patients.items() if n >= min_patients):
        test = site == left_out
        train = np.flatnonzero(~test & ((where == c) if alone else True))
        print(f"== institutions: {name}, {collection}'s {left_out} left out "
              f"({patients[left_out]} patients, {int(test.sum())} images)", flush=True)
        order = train[balanced(recipe, where[train], y[train], seed)]
        model = estimator(recipe, extra, random_state=seed).fit(X[order], y[order])
        proba = model.predict_proba(X[test])[:, 1]
        if scores is not None:
            key = f"{name}/{left_out}/seed{seed}"
            scores[key] = proba
            scores[f"{key}/index"] = np.flatnonzero(test[where == c])
        for subset, keep in (("all", np.ones(int(test.sum()), bool)), ("mid-brain", mid[test])):
            row = {"model": f"{collection}: {left_out} left out"
                            + ("" if subset == "all" else f" ({subset})"),
                   "recipe": name, "seed": seed, "collection": collection,
                   "institution": left_out, "subset": subset, "alone": alone,
                   "trained_on_institutions": sorted(set(patients) - {left_out}),
                   **site_scores(y[test][keep], proba[keep], groups=groups[test][keep],
                                 random_state=seed)}
            results["institutions"].append(row)
            print(f"  {subset}: ROC AUC {row['roc_auc']:.3f} ({row['roc_auc_low']:.3f}-"
                  f"{row['roc_auc_high']:.3f}), balanced accuracy "
                  f"{row['balanced_accuracy']:.3f}", flush=True)


def run_final(found, recipe, extra, seed, save, threshold=None):
    found = for_recipe(found, recipe)
    names, collection, X, y = stacked(found)
    idx = balanced(recipe, collection, y, seed)
    print(f"== final: {recipe} on {len(idx)} images of all three collections", flush=True)
    start = time.perf_counter()
    model = estimator(recipe, extra, random_state=seed).fit(X[idx], y[idx])
    seconds = time.perf_counter() - start
    if threshold is not None:
        model = decide_at(model, threshold)
        print(f"deciding at {threshold:.2f}", flush=True)
    save_pipeline(model, found, save, resizer_params(recipe))
    print(f"fit {seconds:.0f} s", flush=True)
    return seconds


def save_pipeline(model, found, path, resize=None):
    """Save a model fitted on the arrays as a Pipeline that takes image paths."""
    from sklearn.pipeline import Pipeline

    from skbrain.persistence import save_model

    size = int(next(iter(found.values())).data.shape[-1])
    # The arrays came from ImageResizer at these settings, three channels at prediction.
    save_model(Pipeline([("resize", ImageResizer(size, **(resize or {}))), ("cnn", model)]),
               path)
    print(f"saved {path}", flush=True)


def write(output, results, info):
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    for part, records in results.items():
        if not records:
            continue
        metrics = [m for m in SITE_METRICS + THRESHOLD_METRICS + FEW_CV_METRICS
                   + FEW_RANK_METRICS if m in records[0]]
        rows = [{**r, "model": f"{r.get('recipe', '')}: {r['model']}"} for r in records]
        table = ResultsTable(rows, metrics=metrics)
        stem = output.with_name(f"{output.stem}_{part}")
        table.to_csv(stem.with_suffix(".csv"))
        table.to_markdown(stem.with_suffix(".md"))
    write_json(output, {**info, **results})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", default="lite0,compact")
    parser.add_argument("--more-recipes", default="",
                        help="recipes of the part loco2 (after final and few)")
    parser.add_argument("--parts", default="loco")
    parser.add_argument("--loco-tta", action="store_true",
                        help="the loco part also scores each fold model with a horizontally "
                             "flipped view averaged in (tta=1; roc_auc_tta)")
    parser.add_argument("--institutions-alone", action="store_true",
                        help="the institutions part trains on LGG-dev's other institutions "
                             "only (the specialist), not on everything else")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--held-out", default=None,
                        help="comma-separated collections the loco parts leave out (default: "
                             "each in turn)")
    parser.add_argument("--seeds", default="0", help="grouped splits of the split part")
    parser.add_argument("--split-recipe", default="lite0-recipe",
                        help='a recipe, or "auto": the final recipe')
    parser.add_argument("--split-union-only", action="store_true",
                        help="the split part fits only the union (no specialist per collection)")
    parser.add_argument("--few-from", default="lite0-recipe",
                        help='a recipe, or "auto": the final recipe')
    parser.add_argument("--few-repeats", type=int, default=2)
    parser.add_argument("--few-ks", default="2,5,10,20",
                        help="the few part's numbers of labelled LGG-dev patients")
    parser.add_argument("--few-replay", action="store_true",
                        help="the few part also fine-tunes with as many images of the base's "
                             "own training collections mixed in (replay)")
    parser.add_argument("--few-fine-tune", nargs="*", default=None, metavar="KEY=VALUE",
                        help="the few part's fine-tuning parameters (default: "
                             + " ".join(f"{k}={v}" for k, v in FEW_FINE_TUNE.items()) + ")")
    parser.add_argument("--few-starts", default=None,
                        help="comma-separated starts of the few part to run (default: all of "
                             "shipped-without-lgg, shipped-without-lgg + replay, own-data-only)")
    parser.add_argument("--few-score-sources", action="store_true",
                        help="the few part also scores each fine-tuned model on the collections "
                             "its base was trained on (what it kept of them)")
    parser.add_argument("--few-threshold-cv", action="store_true",
                        help="the few part also chooses the threshold as adapt_pretrained "
                             "does (grouped folds of the k patients, out of fold) and scores "
                             "at it")
    parser.add_argument("--few-tta", action="store_true",
                        help="the few part also scores each fine-tune with a horizontally "
                             "flipped view averaged in (tta=1), out of fold too with "
                             "--few-threshold-cv")
    parser.add_argument("--few-ensemble", type=int, default=1, metavar="N",
                        help="the few part's fine-tunes (and each threshold fold's) are soft "
                             "votes of N fine-tunes of other seeds")
    parser.add_argument("--load-base", default=None,
                        help="the few part starts from this saved model (a --save-base file) "
                             "instead of training it")
    parser.add_argument("--final", default="lite0-recipe",
                        help='a recipe, or "auto": the best of the loco part by mean ROC AUC')
    parser.add_argument("--save", default=None, help="where the final model is saved")
    parser.add_argument("--threshold", default=None, type=threshold_arg,
                        help='the final model\'s decision threshold, also the union\'s in the '
                             'split part: a number, or "auto": the threshold part\'s choice '
                             "(default: the most probable class)")
    parser.add_argument("--save-base", default=None,
                        help="where the few part's model trained without LGG-dev is saved "
                             "(bench_explain scores its maps on LGG-dev)")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    parser.add_argument("--head-volumes", default=None, metavar="FOLDER",
                        help="where the head-slice recipes' volumes are, fetched with pip if "
                             "missing (default: SKBRAIN_HEAD_VOLUMES or "
                             "~/.cache/skbrain/head_volumes)")
    parser.add_argument("--image-size", type=int, default=150)
    parser.add_argument("--prepare", default=None, metavar="FILE.npz")
    parser.add_argument("--arrays", default=None, metavar="FILE.npz")
    parser.add_argument("--time-budget", type=float, default=None,
                        help="seconds; no part starts after this")
    parser.add_argument("--output", default="benchmarks/results/sites.json")
    args = parser.parse_args(argv)
    if args.prepare:
        prepare(args.prepare, args.image_size)
        return
    extra = parse_set(args.set)
    global HEAD_FOLDER
    HEAD_FOLDER = args.head_volumes
    held_out = args.held_out.split(",") if args.held_out else None
    if held_out and set(held_out) - set(COLLECTIONS):
        raise SystemExit(f"--held-out {args.held_out!r}: known collections are {COLLECTIONS}")
    recipes = args.recipes.split(",")
    more = [r for r in args.more_recipes.split(",") if r]
    unknown = [r for r in recipes + more + [args.final, args.few_from, args.split_recipe]
               if r not in RECIPES and r != "auto"]
    if unknown:
        raise SystemExit(f"unknown recipes {unknown}; known: {sorted(RECIPES)}")
    start = time.perf_counter()
    if args.arrays:
        found = load_arrays(args.arrays)
    else:
        found = resized(load_paths(), args.image_size)
    results = {"loco": [], "split": [], "few": [], "threshold": [], "specialists": [],
               "institutions": []}
    union_oof = None
    threshold = args.threshold
    if threshold == "auto" and "threshold" not in args.parts.split(","):
        raise SystemExit("--threshold auto needs the threshold part before final")
    info = {"recipes": {r: RECIPES[r] for r in RECIPES},
            "set": extra, "image_size": args.image_size,
            "n_images": {n: len(b.target) for n, b in found.items()}}
    models, loco_scores, institution_scores = {}, {}, {}
    deadline = start + args.time_budget if args.time_budget else None
    final = args.final
    for part in args.parts.split(","):
        if deadline is not None and time.perf_counter() > deadline:
            print(f"time budget spent; {part} not run", flush=True)
            continue
        if final == "auto" and part in ("final", "few", "split", "threshold", "specialists",
                                        "institutions"):
            final = info["final_recipe"] = best_recipe(results["loco"])
        few_from = final if args.few_from == "auto" else args.few_from
        if part == "loco":
            run_loco(found, recipes, extra, args.seed, results, models, deadline, held_out,
                     loco_scores, tta=args.loco_tta)
        elif part == "loco2":
            run_loco(found, more, extra, args.seed, results, models, deadline, held_out,
                     loco_scores, tta=args.loco_tta)
        elif part == "split":
            if threshold == "auto":
                raise SystemExit("--threshold auto: run the threshold part before split")
            run_split(found, final if args.split_recipe == "auto" else args.split_recipe, extra,
                      [int(s) for s in args.seeds.split(",")], results, threshold,
                      specialists=not args.split_union_only)
        elif part == "few":
            if args.load_base:
                from skbrain.persistence import load_model

                # A --save-base file is the resizer and the model: the arrays are resized.
                models.setdefault(few_from, {})["lgg_flair_dev"] = load_model(args.load_base)[-1]
            if "lgg_flair_dev" not in models.get(few_from, {}):
                # Only the fold the few-label part starts from: trained without LGG-dev.
                run_loco(found, [few_from], extra, args.seed, results, models,
                         held_out=["lgg_flair_dev"])
            base = models[few_from]["lgg_flair_dev"]
            if args.save_base:
                save_pipeline(base, found, args.save_base, resizer_params(few_from))
            run_few(found, base, few_from, extra, args.few_repeats, results,
                    ks=[int(k) for k in args.few_ks.split(",")],
                    done=lambda: write(args.output, results, info), replay=args.few_replay,
                    fine_tune=(None if args.few_fine_tune is None
                               else parse_set(args.few_fine_tune)),
                    only=args.few_starts and args.few_starts.split(","),
                    score_sources=args.few_score_sources, threshold_cv=args.few_threshold_cv,
                    tta=args.few_tta, ensemble=args.few_ensemble)
        elif part == "threshold":
            chosen, union_oof = run_threshold(found, final, extra, args.seed, results)
            info["chosen_threshold"] = chosen
            # The out-of-fold probabilities, for any later look at the threshold.
            view = for_recipe(found, final)
            names, collection, y = stacked_labels(view)
            out = Path(args.output)
            out.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(out.with_name(f"{out.stem}_threshold_oof.npz"), proba=union_oof,
                                y=y, collection=collection, collection_names=np.array(names),
                                train_only=stacked_train_only(view))
            if threshold == "auto":
                threshold = chosen
        elif part == "institutions":
            run_institutions(found, final, extra, args.seed, results, institution_scores,
                             alone=args.institutions_alone)
        elif part == "specialists":
            run_specialists(found, final, extra, args.seed, results, union_oof)
        elif part == "final":
            if threshold == "auto":
                raise SystemExit("--threshold auto: run the threshold part before final")
            info["final_threshold"] = threshold
            info["final_fit_seconds"] = run_final(found, final, extra, args.seed, args.save,
                                                  threshold)
        else:
            raise SystemExit(f"unknown part {part!r}")
        write(args.output, results, info)
        out = Path(args.output)
        for kind, scores in (("loco", loco_scores), ("institutions", institution_scores)):
            if scores:
                np.savez_compressed(out.with_name(f"{out.stem}_{kind}_scores.npz"), **scores)
    print(f"done in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
