"""Screen tumor-free slices of any head volumes in a bench_sites recipe; not part of skbrain.

The screen that chose the head-slice recipes (benchmarks/README.md, "Whole head volumes");
the recipes themselves (``compact-heads-60``) read their two volumes through
``benchmarks/head_volumes.py``. This one takes any volumes and any collection to join: it adds
every axial slice of the volumes ``HEAD_VOLUMES`` names (comma-separated, each
``IMAGE.nii[.gz]`` or ``IMAGE.nii[.gz]:BRAIN_MASK.nii[.gz]``; with a mask, only slices that
hold brain) to the tumor-free class of ``HEAD_INTO`` (default ``tumor_mri_1794``), each volume
one group, then runs bench_sites with the arguments given.

Usage::

    HEAD_VOLUMES=T1.nii.gz,atlas.nii.gz:atlas_mask.nii.gz \\
        python benchmarks/screens/head_volumes.py --arrays sites96.npz --image-size 96 \\
        --parts loco --recipes compact-lesions-60 --held-out lgg_flair_dev --seed 2
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bench_sites  # noqa: E402
import head_volumes  # noqa: E402

_load_arrays = bench_sites.load_arrays


def volume_specs(text=None):
    """``HEAD_VOLUMES`` as ``[(image, mask or None), ...]``, each file checked to exist."""
    text = os.environ.get("HEAD_VOLUMES", "") if text is None else text
    specs = []
    for item in filter(None, (t.strip() for t in text.split(","))):
        image, _, mask = item.partition(":")
        for path in filter(None, (image, mask)):
            if not Path(path).is_file():
                raise FileNotFoundError(f"HEAD_VOLUMES: {path} is not a file")
        specs.append((image, mask or None))
    if not specs:
        raise SystemExit("HEAD_VOLUMES names no volume (IMAGE.nii.gz[:MASK.nii.gz],...)")
    return specs


def load_arrays(path):
    return head_volumes.with_head_volumes(_load_arrays(path), volume_specs(),
                                          os.environ.get("HEAD_INTO", "tumor_mri_1794"))


if __name__ == "__main__":
    bench_sites.load_arrays = load_arrays
    bench_sites.main(sys.argv[1:])
