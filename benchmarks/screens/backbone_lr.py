"""Screen a lower learning rate for a fine-tuned hand-made net's conv layers; not in skbrain.

skbrain's pretrained estimators train an ImageNet backbone at ``backbone_lr_ratio`` (0.1) times
``lr`` and their new head at ``lr``; a hand-made net fine-tuned from skbrain's own detector
(``init_from``, ``adapt_pretrained``, bench_sites' few part) trains every layer at ``lr``. This
screen gives the hand-made estimators' conv layers (``features.*``) ``RATIO`` times ``lr`` and the
head ``lr`` for the run, then runs bench_sites with the arguments given. Meant for the few part
with ``--load-base`` (only the fine-tunes train); a base trained in the same run would get the
ratio too. See benchmarks/README.md, "A lower learning rate for the conv layers in the
five-patient fine-tune".

Usage::

    python benchmarks/screens/backbone_lr.py --arrays sites96.npz --image-size 96 --parts few \
        --few-from compact-lesions-60 --seed 2 --load-base v3_without_lgg_s2.skbrain \
        --few-starts shipped-without-lgg --few-ks 5 --few-repeats 6 --few-tta \
        --few-threshold-cv --few-fine-tune max_epochs=60 lr=0.01
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bench_sites  # noqa: E402

from skbrain import _base  # noqa: E402

#: The pretrained estimators' backbone_lr_ratio="auto" for ImageNet weights.
RATIO = float(os.environ.get("BACKBONE_LR_RATIO", 0.1))


def lr_groups(self):
    # skorch puts the matched parameters in the first group and the rest (the head) in the
    # second, in the order OneCycleLR's max_lr list follows.
    return [("features.*", {"lr": self.lr * RATIO})], [self.lr * RATIO, self.lr]


def patch():
    _base.BaseCNNClassifier._lr_groups = lr_groups


if __name__ == "__main__":
    patch()
    bench_sites.main(sys.argv[1:])
