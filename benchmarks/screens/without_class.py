"""Run bench_sites with one original class of a collection left out; not part of skbrain.

A diagnostic, not a recipe: left out of training, LGG-dev's tumor-free slices of the skull base
score about as high as its tumors (benchmarks/README.md, "Where the detector errs on LGG-dev
left out"), and in the four-class collection the pituitary tumors are skull-base views while
fewer of its tumor-free images seem to be (a look at ten of each, not a count). Dropping
``DROP`` (``collection:class``, default ``tumor_mri_1794:pituitary``) from the arrays before
bench_sites runs measures how much of that comes from such images. The collection must carry
``original_target`` (the four-class one does).

Usage::

    python benchmarks/screens/without_class.py --arrays sites96.npz --image-size 96 \
        --parts loco --recipes compact-lesions-60 --held-out lgg_flair_dev --seed 2
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bench_sites  # noqa: E402

DROP = os.environ.get("DROP", "tumor_mri_1794:pituitary")
_load_arrays = bench_sites.load_arrays


def without(found, drop=None):
    """``found`` with the images of ``drop`` (``collection:class``) left out of its collection."""
    collection, name = (drop or DROP).split(":")
    bunch = found[collection]
    names = [str(n) for n in bunch.original_target_names]
    if name not in names:
        raise ValueError(f"{collection} has no class {name!r}; it has {names}")
    keep = bunch.original_target != names.index(name)
    bench_sites.subset(bunch, keep)
    print(f"{collection}: {int((~keep).sum())} {name} images left out, {int(keep.sum())} kept",
          flush=True)
    return found


def load_arrays(path):
    return without(_load_arrays(path))


if __name__ == "__main__":
    bench_sites.load_arrays = load_arrays
    bench_sites.main(sys.argv[1:])
