"""Screen batch mixup across collections in a bench_sites recipe; not part of skbrain.

Every training batch, after its augmentation and painted lesions, is mixed with a random
pairing of itself (Zhang et al. 2018): ``lam * x + (1 - lam) * x[perm]`` with one
``lam ~ Beta(ALPHA, ALPHA)`` per batch, and the loss is ``lam * CE(y) + (1 - lam) *
CE(y[perm])``. The recipes' batches are balanced over the training collections, so about half
of the pairs span two collections (DomainBed's inter-domain Mixup, Yan et al. 2020, pairs only
across). The mixing is a forward pre-hook on the net's module, so skbrain's own ``infer``
(augmentation) and ``get_loss`` (the lesions' logit offset) run unchanged; the estimators'
net class is patched for the run, then bench_sites runs with the arguments given
(benchmarks/README.md, "Mixup across the collections").

Usage::

    python benchmarks/screens/mixup.py --arrays sites96.npz --image-size 96 --parts loco \
        --recipes compact-lesions-60 --held-out lgg_flair_dev --seed 2 --loco-tta
"""
import os
import sys
from pathlib import Path

import torch
from skorch.utils import to_tensor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bench_sites  # noqa: E402

from skbrain import _net  # noqa: E402

#: DomainBed's default mixup_alpha.
ALPHA = float(os.environ.get("MIXUP_ALPHA", 0.2))
_initialize_module = _net._SkbrainNet.initialize_module
_get_loss = _net._SkbrainNet.get_loss


def draw(n, device):
    """A pairing of a batch of ``n`` and its weight, from torch's generator (the fit's seed)."""
    lam = float(torch.distributions.Beta(ALPHA, ALPHA).sample())
    return torch.randperm(n, device=device), lam


def initialize_module(self):
    out = _initialize_module(self)

    def mix(module, args):
        if not module.training or len(args[0]) < 2:
            return None
        x = args[0]
        perm, lam = draw(len(x), x.device)
        # Read (and cleared) by the batch's get_loss, which skorch calls right after.
        self._mix = (perm, lam)
        return (lam * x + (1 - lam) * x[perm], *args[1:])

    self.module_.register_forward_pre_hook(mix)
    return out


def get_loss(self, y_pred, y_true, *args, training=False, **kwargs):
    mix = self.__dict__.pop("_mix", None)
    if not training or mix is None:
        return _get_loss(self, y_pred, y_true, *args, training=training, **kwargs)
    perm, lam = mix
    y_true = to_tensor(y_true, device=y_pred.device)
    return (lam * _get_loss(self, y_pred, y_true, *args, training=True, **kwargs)
            + (1 - lam) * _get_loss(self, y_pred, y_true[perm], *args, training=True, **kwargs))


def patch():
    _net._SkbrainNet.initialize_module = initialize_module
    _net._SkbrainNet.get_loss = get_loss


if __name__ == "__main__":
    patch()
    bench_sites.main(sys.argv[1:])
