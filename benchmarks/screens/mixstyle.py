"""Screen MixStyle (Zhou et al. 2021) in a bench_sites recipe; not part of skbrain.

In training, with probability P per batch, the features after the hand-made net's first two
blocks (its first and third ReLU: the compact net's block ends) are renormalised with each
image's channel means and standard deviations mixed with those of another image of the batch
(lambda ~ Beta(ALPHA, ALPHA), a random pairing). ConvNet.forward is patched for the run, then
bench_sites runs with the arguments given (benchmarks/README.md, "Two style augmentations").

Usage::

    python benchmarks/screens/mixstyle.py --arrays sites96.npz --image-size 96 --parts loco \
        --recipes compact-lesions --held-out lgg_flair_dev --seed 3
"""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bench_sites  # noqa: E402

from skbrain import networks  # noqa: E402

P, ALPHA, EPS, AFTER_RELUS = 0.5, 0.1, 1e-6, (0, 2)


def mixstyle(x):
    n = x.shape[0]
    if n < 2 or torch.rand(()) > P:
        return x
    mu = x.mean(dim=(2, 3), keepdim=True)
    sig = (x.var(dim=(2, 3), keepdim=True) + EPS).sqrt()
    mu, sig = mu.detach(), sig.detach()
    normed = (x - mu) / sig
    lam = torch.distributions.Beta(ALPHA, ALPHA).sample((n, 1, 1, 1)).to(x.device, x.dtype)
    perm = torch.randperm(n, device=x.device)
    mu2, sig2 = mu[perm], sig[perm]
    return normed * (lam * sig + (1 - lam) * sig2) + (lam * mu + (1 - lam) * mu2)


def forward(self, x):
    if self.channels_last and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    if self.training:
        relus = -1
        for layer in self.features:
            x = layer(x)
            if isinstance(layer, torch.nn.ReLU):
                relus += 1
                if relus in AFTER_RELUS:
                    x = mixstyle(x)
    else:
        x = self.features(x)
    return self.head(self.pool(x))


if __name__ == "__main__":
    networks.ConvNet.forward = forward
    bench_sites.main(sys.argv[1:])
