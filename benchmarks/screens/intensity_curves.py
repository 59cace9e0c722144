"""Screen random intensity curves (a sequence change) in a bench_sites recipe; not in skbrain.

With probability P per training image, its intensities (mapped to [0, 1] per image, as
scanner_augment does) go through a random piecewise-linear curve through (0, 0) and K-1 random
knots: tissue contrasts reorder as between T1, T2 and FLAIR. Then scanner_augment as before
(painted lesions are painted first, so they are remapped too). The estimators' scanner_augment
is patched for the run, then bench_sites runs with the arguments given.

Usage::

    python benchmarks/screens/intensity_curves.py --arrays sites96.npz --image-size 96 \
        --parts loco --recipes compact-lesions --held-out lgg_flair_dev --seed 3
"""
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bench_sites  # noqa: E402

from skbrain import _net, augmentation  # noqa: E402

P, K = float(os.environ.get("REMAP_P", 0.5)), 5
_original = augmentation.scanner_augment


def remap(x):
    n = x.shape[0]
    low, span = augmentation._range(x)
    unit = ((x - low) / span).clamp(0, 1)
    ys = torch.rand(n, K, device=x.device, dtype=x.dtype)
    ys[:, 0] = 0
    pos = unit * (K - 1)
    idx = pos.floor().clamp(max=K - 2).long()
    frac = pos - idx
    flat_idx = idx.view(n, -1)
    y0 = torch.gather(ys, 1, flat_idx).view_as(unit)
    y1 = torch.gather(ys, 1, flat_idx + 1).view_as(unit)
    curved = y0 * (1 - frac) + y1 * frac
    pick = (torch.rand(n, 1, 1, 1, device=x.device) < P).to(x.dtype)
    return (pick * curved + (1 - pick) * unit) * span + low


def scanner_augment(x, strength=0.5):
    return _original(remap(x) if strength else x, strength)


if __name__ == "__main__":
    _net.scanner_augment = scanner_augment
    bench_sites.main(sys.argv[1:])
