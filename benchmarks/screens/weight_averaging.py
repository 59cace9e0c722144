"""Screen weight averaging (SWA) in a bench_sites recipe, left one collection out; not in skbrain.

A skorch callback keeps running averages of the network's weights after every epoch from a
fraction of ``max_epochs`` on (Izmailov et al. 2018; Cha et al. 2021 for domain
generalisation). It only reads the weights, so one fit gives the plain final model (the
baseline, paired) and the averaged ones. Averaged weights get their batch-norm statistics
recomputed on the fold's own balanced training images, without augmentation
(``site_adaptation.adapt_batchnorm``); the ``+buffers`` rows average the running statistics
instead. Each fold is ``bench_sites.run_loco``'s, so the baseline rows are bench_sites' rows
(benchmarks/README.md, "Weight averaging").

Usage::

    python benchmarks/screens/weight_averaging.py --arrays sites96.npz \
        --recipe compact-lesions-60 --held-out lgg_flair_dev --seed 3 --output OUT.json
"""
import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np
from skorch.callbacks import Callback
from torch.optim.swa_utils import AveragedModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_sites  # noqa: E402
from _common import write_json  # noqa: E402
from site_adaptation import adapt_batchnorm  # noqa: E402

from skbrain.sites import _union, balanced_collection_indices, site_scores  # noqa: E402

#: Fraction of max_epochs after which averaging starts: 0.5 averages epochs 31..60 of 60.
STARTS = (0.5, 0.75)


class WeightAverages(Callback):
    """Running averages of the module's weights from each start fraction of max_epochs on."""

    def __init__(self, starts=STARTS):
        self.starts = starts

    def initialize(self):
        self.averages_ = {}
        return self

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        for start in self.starts:
            if epoch <= start * net.max_epochs:
                continue
            if start not in self.averages_:
                # use_buffers=True also averages the batch-norm running statistics (the
                # "+buffers" rows); the recomputed rows overwrite them.
                self.averages_[start] = AveragedModel(net.module_, device="cpu",
                                                      use_buffers=True)
            self.averages_[start].update_parameters(net.module_)


def _averages(model):
    return next(cb for _, cb in model.net_.callbacks_ if isinstance(cb, WeightAverages)).averages_


def averaged(model, start):
    """A copy of the fitted classifier with the weights averaged from ``start`` on."""
    model = copy.deepcopy(model)
    average = _averages(model)[start].module
    model.net_.module_.load_state_dict(average.state_dict())
    return model


def _row(variant, y, proba, groups, seed, held_out, subset):
    found = site_scores(y, proba, groups=groups, n_bootstrap=200, random_state=seed)
    print(f"  {held_out} ({subset}) {variant}: ROC AUC {found['roc_auc']:.3f} "
          f"({found['roc_auc_low']:.3f}-{found['roc_auc_high']:.3f}), balanced accuracy "
          f"{found['balanced_accuracy']:.3f}", flush=True)
    return {"held_out": held_out, "subset": subset, "variant": variant, "seed": seed,
            **{k: float(found[k]) for k in ("roc_auc", "roc_auc_low", "roc_auc_high",
                                            "balanced_accuracy", "recall", "specificity")}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arrays", required=True, help="bench_sites.py --prepare's file")
    parser.add_argument("--recipe", default="compact-lesions-60")
    parser.add_argument("--held-out", default="lgg_flair_dev",
                        help="comma-separated collections, each its own fold")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE")
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    found = bench_sites.load_arrays(args.arrays)
    extra = {**bench_sites.parse_set(args.set), "callbacks": [WeightAverages()]}
    result = {"recipe": args.recipe, "seed": args.seed, "starts": list(STARTS), "loco": [],
              "rows": []}
    models = {}
    view = bench_sites.for_recipe(found, args.recipe)
    names = sorted(view, key=bench_sites.LOCO_ORDER.index)
    subsets = bench_sites.loco_subsets(view)
    for held_out in args.held_out.split(","):
        bench_sites.run_loco(found, [args.recipe], extra, args.seed, result, models,
                             held_out=[held_out])
        model = models[args.recipe][held_out]
        # The images the fold trained on, as leave_one_collection_out drew them.
        train = _union([view[n] for n in names if n != held_out])
        idx = balanced_collection_indices(train.collection,
                                          random_state=args.seed + names.index(held_out))
        # The final weights with the same recomputed statistics: what averaging adds beyond them.
        variants = {"final": model, "final+bn": adapt_batchnorm(model, train.data[idx])}
        for start in STARTS:
            t0 = time.perf_counter()
            plain = averaged(model, start)
            variants[f"swa{int(start * 100)}"] = adapt_batchnorm(plain, train.data[idx])
            variants[f"swa{int(start * 100)}+buffers"] = plain
            print(f"  swa{int(start * 100)}: batch norm recomputed in "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
        test = view[held_out]
        rows = {"all": np.ones(len(test.target), bool), **subsets.get(held_out, {})}
        for variant, fitted in variants.items():
            proba = fitted.predict_proba(test.data)[:, 1]
            for subset, mask in rows.items():
                result["rows"].append(_row(variant, test.target[mask], proba[mask],
                                           np.asarray(test.groups)[mask], args.seed, held_out,
                                           subset))
        write_json(args.output, result)


if __name__ == "__main__":
    main()
