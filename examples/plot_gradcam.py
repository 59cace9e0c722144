"""
Where does the network look? Heat maps scored against tumor masks
=================================================================

:class:`~skbrain.explain.Explainer` draws where a fitted network found its
evidence for a class: by default HiResCAM, the element-wise product of the
last convolution block's feature maps and the gradient of the tumor score,
which for skbrain's pooled heads adds up to the score itself.
:func:`~skbrain.explain.localization_scores` turns "does it point at the
tumor?" into numbers, against masks: the pointing game (is the map's peak in
the mask) and the mass ratio (the share of the map inside the mask over the
mask's share of the image; 1 is chance).

First a check on synthetic slices, whose tumors are known pixel by pixel: a
trained network's maps should sit on the tumor, and more often than an
untrained one's (a bright blob excites even random filters, so the untrained
net's maps are not blank: they follow brightness, not evidence).
Then a small network trained on the 253 real images, explained on
FLAIR slices of other patients (LGG-dev) with their tumor masks outlined.

Small settings (48 and 64 pixels, a few epochs) keep this page under a minute
or two on a CPU.
"""

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from sklearn.pipeline import Pipeline

from skbrain import (
    CNNClassifier,
    CompactCNNClassifier,
    ImageResizer,
    load_brain_mri,
    make_synthetic_mri,
)
from skbrain.datasets import load_lgg_flair
from skbrain.explain import Explainer, localization_scores
from skbrain.plotting import plot_gradcam

# sphinx_gallery_start_ignore
# Inside a checkout of the skbrain repository the images may sit beside it,
# where the documentation build finds them.
try:
    _here = Path(__file__).resolve().parent
except NameError:  # sphinx-gallery and notebooks run without __file__
    _here = Path.cwd()
_root = next((p for p in (_here, *_here.parents) if (p / "pyproject.toml").is_file()), _here)
_beside = _root.parent / "shared" / "data" / "brain_mri"
if not os.environ.get("SKBRAIN_DATA") and (_beside / "yes").is_dir():
    os.environ["SKBRAIN_DATA"] = str(_beside)
# sphinx_gallery_end_ignore

# %%
# A check on synthetic tumors
# ---------------------------
# :func:`~skbrain.datasets.make_synthetic_mri` returns, with each slice, the
# mask of its tumor-like blob. We train the study's one-layer "wide" network
# on 64 slices and explain 20 new positive ones. Two numbers summarise the
# maps: how much more of a map's mass falls inside the blob than the blob's
# share of the image would give by chance, and how often the map's peak lies
# inside the blob. The same network before training is the baseline.
# :func:`~skbrain.explain.localization_scores` computes both (``tolerance=0``:
# the peak must be inside the blob itself).
train = make_synthetic_mri(64, image_size=48, random_state=0)
test = make_synthetic_mri(40, image_size=48, random_state=1)
positives = test.target == 1
params = {"architecture": "wide", "n_kernels": 8, "kernel_size": 11, "pool_size": 2,
          "random_state": 1}
trained = CNNClassifier(lr=0.01, max_epochs=10, **params).fit(train.data, train.target)
untrained = CNNClassifier(lr=1e-9, max_epochs=1, lr_schedule=None, **params)
untrained.fit(train.data[:8], train.target[:8])


print(f"test accuracy of the trained network: "
      f"{(trained.predict(test.data) == test.target).mean():.0%}")
for name, model in (("trained", trained), ("untrained", untrained)):
    scores = localization_scores(model, test.data[positives], test.masks[positives],
                                 tolerance=0)
    print(f"{name:>9}: {scores['mass_ratio']:.1f}x the blob's share of the map's mass inside "
          f"the blob; peak inside the blob for {scores['pointing_game']:.0%} of the tumors; "
          f"{scores['empty_share']:.0%} empty maps")

# %%
# The trained network's maps, over the slices:
heatmaps = Explainer(trained).explain(test.data[positives])
fig_synthetic = plot_gradcam(test.data[positives], heatmaps,
                             y_true=test.target[positives],
                             y_pred=trained.predict(test.data[positives]),
                             y_proba=trained.predict_proba(test.data[positives]), n=8)

# %%
# Real slices with their tumor masks
# ----------------------------------
# A pipeline that reads the files, crops the head, resizes and classifies can
# be explained directly: the maps come back in each file's own size, the
# crop and resize undone, so they lie on the picture the user gave and on its
# mask. The network is trained on the 253 Kaggle images and explained on
# FLAIR slices of LGG-dev (another collection, other patients), whose tumor
# masks are drawn in green. Without those images this part is skipped.
data = lgg = None
# sphinx_gallery_start_ignore
_lgg = _root.parent / "shared" / "data" / "lgg_flair_dev"
if not os.environ.get("SKBRAIN_DATA_LGG") and (_lgg / "MANIFEST.csv").is_file():
    os.environ["SKBRAIN_DATA_LGG"] = str(_lgg)
# sphinx_gallery_end_ignore
try:
    data = load_brain_mri()
    lgg = load_lgg_flair()
except (OSError, ValueError) as exc:
    lgg = None
    print(f"The real images were not found ({exc}); this part is skipped.")

if lgg is not None:
    model = Pipeline([
        ("resize", ImageResizer(64)),
        ("cnn", CompactCNNClassifier(max_epochs=10, random_state=0)),
    ])
    model.fit(data.data, data.target)
    tumor = np.flatnonzero((lgg.target == 1) & (lgg.tumor_area >= 300))
    scored = tumor[np.linspace(0, len(tumor) - 1, 40).round().astype(int)]
    scores = localization_scores(model, lgg.data[scored], lgg.masks[scored])
    print(f"LGG-dev, {len(scored)} tumor slices: pointing game "
          f"{scores['pointing_game']:.2f}, mass ratio {scores['mass_ratio']:.1f}, "
          f"empty maps {scores['empty_share']:.0%}")

    shown = scored[:8]
    explainer = Explainer(model)
    maps = explainer.explain(list(lgg.data[shown]), target=1)
    proba = model.predict_proba(list(lgg.data[shown]))[:, 1]
    fig_real, axes = plt.subplots(2, 4, figsize=(12, 6.5), layout="constrained")
    for ax, i, heat, p, empty in zip(axes.ravel(), shown, maps, proba, explainer.empty_,
                                     strict=True):
        picture = np.asarray(Image.open(lgg.data[i]).convert("L"))
        mask = np.asarray(Image.open(lgg.masks[i]).convert("L")) > 127
        ax.imshow(picture, cmap="gray")
        ax.imshow(heat, cmap="jet", alpha=0.4 * (heat > 0.02), vmin=0, vmax=1)
        ax.contour(mask, levels=[0.5], colors="lime", linewidths=1)
        ax.set_title(f"p(tumor)={p:.2f}" + ("\nEMPTY map" if empty else ""), fontsize=10)
        ax.set_axis_off()

# %%
# A map says where a network looked, not that it looked at the right thing:
# read it with the localisation scores and the test scores, and remember that
# skbrain is a research tool, not a diagnostic device. ``skbrain report MODEL
# --data FOLDER`` puts every image's map in one HTML page.
