"""Screen a strong surface-coil field in a bench_sites recipe; not part of skbrain.

Left out of training, LGG-dev's highest-scored tumor-free slices include top-of-head slices
with a bright band along the back of the head, where a receive coil sits close
(benchmarks/README.md, "Where the detector errs on LGG-dev left out"). scanner_augment's own
bias field is a gentle ``exp(±0.3 s)`` everywhere; this adds, with probability P per training
image, a coil-like bright region: the image (per image in [0, 1]) is multiplied by
``1 + g * exp(-|p - c|^2 / (2 s^2))`` with ``c`` at a uniform angle and at U(0.6, 1.0) of the
half width from the centre, ``s ~ U(0.3, 0.8)``, ``g ~ U(0.5, 2.0)``, then rescaled so that its
maximum is unchanged, as the collections' percentile stretch would. The label is kept. It runs
before scanner_augment, after the painted lesions, which get the field too. The estimators'
scanner_augment is patched for the run, then bench_sites runs with the arguments given.

Usage::

    python benchmarks/screens/bias_field.py --arrays sites96.npz --image-size 96 --parts loco \
        --recipes compact-lesions-60 --held-out lgg_flair_dev --seed 2 --loco-tta
"""
import math
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bench_sites  # noqa: E402

from skbrain import _net, augmentation  # noqa: E402

P = float(os.environ.get("COIL_P", 0.5))
_original = augmentation.scanner_augment


def coil_field(x):
    """``x`` (n, c, h, w) with a coil-like bright region in a random P of its images."""
    n, _, h, w = x.shape
    device, dtype = x.device, x.dtype

    def uniform(low, high):
        return (low + (high - low) * torch.rand(n, device=device, dtype=dtype)).view(n, 1, 1)

    angle, radius = uniform(0, 2 * math.pi), uniform(0.6, 1.0)
    sigma, gain = uniform(0.3, 0.8), uniform(0.5, 2.0)
    rows = torch.linspace(-1, 1, h, device=device, dtype=dtype).view(1, h, 1)
    cols = torch.linspace(-1, 1, w, device=device, dtype=dtype).view(1, 1, w)
    dist2 = (rows - radius * torch.sin(angle)) ** 2 + (cols - radius * torch.cos(angle)) ** 2
    field = 1 + gain * torch.exp(-dist2 / (2 * sigma**2))
    pick = torch.rand(n, device=device) < P
    field = torch.where(pick.view(n, 1, 1), field, torch.ones_like(field)).unsqueeze(1)
    low, span = augmentation._range(x)
    unit = (x - low) / span
    lit = unit * field
    peak = unit.amax(dim=(1, 2, 3), keepdim=True)
    lit = lit * peak / lit.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6)
    return lit * span + low


def scanner_augment(x, strength=0.5):
    return _original(coil_field(x) if strength else x, strength)


if __name__ == "__main__":
    _net.scanner_augment = scanner_augment
    bench_sites.main(sys.argv[1:])
