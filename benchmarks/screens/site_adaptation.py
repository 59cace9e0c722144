"""Screen adapting a fitted model to a new site's *unlabeled* images; not part of skbrain.

Both start from a model fitted without the held-out collection (``bench_sites.py --save-base``,
or ``--parts final --save`` on the other collections) and never read the held-out labels until
scoring (benchmarks/README.md, "Adapting to a site's unlabeled images"):

- ``adabn``: every batch-norm layer's running mean and variance recomputed from the held-out
  images (Li et al. 2016, "AdaBN"), layer by layer so each layer sees the ones before it already
  adapted; for the whole collection at once, and per group (each LGG-dev patient's volume).
- ``self-train``: the model labels the top ``--fraction`` of the held-out images by probability
  tumor and the bottom ``--fraction`` tumor-free, and is fine-tuned from itself on them
  (``init_from``, the recipe's settings and ``--fine-tune``), one round.
- ``few-self-train``: the few-label protocol of ``bench_sites.py --parts few`` (the same draws of
  ``--k`` patients, seed = draw, the flipped view) with one more step: the fine-tuned model
  pseudo-labels the other patients' slices as above and is fine-tuned from itself on them plus
  the k patients' labelled slices.

Usage::

    python benchmarks/screens/site_adaptation.py --arrays sites96.npz \
        --base v2_without_lgg_s2.skbrain --parts adabn,self-train,few-self-train \
        --output benchmarks/results/sites_site_adaptation.json
"""
import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bench_sites  # noqa: E402
from _common import write_json  # noqa: E402

from skbrain.persistence import load_model  # noqa: E402
from skbrain.sites import site_scores  # noqa: E402

FINE_TUNE = {"max_epochs": 30, "lr": 0.01}


def adapt_batchnorm(model, X):
    """A copy of the fitted skbrain classifier ``model`` whose batch-norm statistics are X's."""
    # Not torch.optim.swa_utils.update_bn: that needs the network's input tensors and adapts all
    # layers in one pass; here the estimator prepares X and each layer sees adapted ones before it.
    model = copy.deepcopy(model)
    layers = [m for m in model.module_.modules()
              if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for layer in layers:
        sums = {"n": 0, "s": 0.0, "q": 0.0}

        def collect(module, inputs, sums=sums):
            x = inputs[0].detach().double().transpose(0, 1).flatten(1)
            sums["n"] += x.shape[1]
            sums["s"] = sums["s"] + x.sum(1)
            sums["q"] = sums["q"] + (x * x).sum(1)

        hook = layer.register_forward_pre_hook(collect)
        try:
            model.predict_proba(X)
        finally:
            hook.remove()
        n = sums["n"]
        mean = sums["s"] / n
        layer.running_mean.copy_(mean.float())
        # BatchNorm keeps the unbiased variance as its running statistic.
        layer.running_var.copy_(((sums["q"] / n - mean ** 2) * n / (n - 1)).float())
    return model


def pseudo_labelled(proba, fraction):
    """Positions and labels: the top ``fraction`` by probability as 1, the bottom as 0."""
    order = np.argsort(proba, kind="stable")
    n = int(round(fraction * len(proba)))
    return np.concatenate([order[:n], order[len(order) - n:]]), np.r_[np.zeros(n, int),
                                                                      np.ones(n, int)]


def fine_tune(recipe, model, X, y, seed, params):
    return bench_sites.estimator(recipe, {}, random_state=seed, **{**FINE_TUNE, **params},
                                 init_from=model).fit(X, y)


def scores(test, proba, name):
    found = site_scores(test.target, proba, groups=test.groups, n_bootstrap=200, random_state=0)
    print(f"{name}: ROC AUC {found['roc_auc']:.3f} ({found['roc_auc_low']:.3f}-"
          f"{found['roc_auc_high']:.3f})", flush=True)
    return {"name": name, **{k: found[k] for k in ("roc_auc", "roc_auc_low", "roc_auc_high",
                                                  "balanced_accuracy")}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arrays", required=True, help="bench_sites.py --prepare's file")
    parser.add_argument("--base", required=True,
                        help="a saved model fitted without the held-out collection")
    parser.add_argument("--held-out", default="lgg_flair_dev")
    parser.add_argument("--recipe", default="compact-lesions",
                        help="the bench_sites recipe the base was trained with")
    parser.add_argument("--parts", default="adabn,self-train,few-self-train")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--fraction", type=float, default=0.25)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                        help="fine-tune settings beyond 30 epochs at lr 0.01")
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    params = bench_sites.parse_set(args.set)
    parts = args.parts.split(",")
    test = bench_sites.load_arrays(args.arrays)[args.held_out]
    base = load_model(args.base)
    base = base[-1] if hasattr(base, "steps") else base
    result = {"held_out": args.held_out, "fraction": args.fraction, "rows": [], "few": []}
    rows = result["rows"]
    proba = base.predict_proba(test.data)[:, 1]
    rows.append(scores(test, proba, "fitted without it"))
    if "adabn" in parts:
        adapted = adapt_batchnorm(base, test.data).predict_proba(test.data)[:, 1]
        rows.append(scores(test, adapted, "batch-norm statistics of the whole collection"))
        by_group = np.empty(len(proba))
        for group in np.unique(test.groups):
            at = test.groups == group
            by_group[at] = adapt_batchnorm(base, test.data[at]).predict_proba(test.data[at])[:, 1]
        rows.append(scores(test, by_group, "batch-norm statistics of each group"))
    if "self-train" in parts:
        start = time.perf_counter()
        at, labels = pseudo_labelled(proba, args.fraction)
        tuned = fine_tune(args.recipe, base, test.data[at], labels, args.seed, params)
        rows.append({**scores(test, tuned.predict_proba(test.data)[:, 1], "self-trained"),
                     "pseudo_label_accuracy": float(np.mean(test.target[at] == labels)),
                     "seconds": time.perf_counter() - start})
    if "few-self-train" in parts:
        patients = np.unique(test.groups)
        for r in range(args.repeats):
            train = np.isin(test.groups, bench_sites.few_draw(patients, args.k, r))
            if len(np.unique(test.target[train])) < 2:
                continue
            X, y, X_test, y_test = (test.data[train], test.target[train], test.data[~train],
                                    test.target[~train])
            first = fine_tune(args.recipe, base, X, y, r, params)
            p_first = bench_sites._set_tta(first, 1).predict_proba(X_test)[:, 1]
            at, labels = pseudo_labelled(p_first, args.fraction)
            second = fine_tune(args.recipe, first, np.concatenate([X, X_test[at]]),
                               np.concatenate([y, labels]), r, params)
            p_second = bench_sites._set_tta(second, 1).predict_proba(X_test)[:, 1]
            row = {"draw": r, "k": args.k, "fine_tuned": roc_auc_score(y_test, p_first),
                   "self_trained": roc_auc_score(y_test, p_second),
                   "pseudo_label_accuracy": float(np.mean(y_test[at] == labels))}
            print(f"k = {args.k}, draw {r}: fine-tuned {row['fine_tuned']:.3f}, self-trained "
                  f"{row['self_trained']:.3f}", flush=True)
            result["few"].append(row)
        if result["few"]:
            gain = np.array([row["self_trained"] - row["fine_tuned"] for row in result["few"]])
            result["few_gain"] = {"mean": float(gain.mean()), "se": float(
                gain.std(ddof=1) / np.sqrt(len(gain))) if len(gain) > 1 else None,
                "higher": int((gain > 0).sum()), "draws": len(gain)}
    write_json(args.output, result)


if __name__ == "__main__":
    main()
