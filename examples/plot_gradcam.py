"""
Where does the network look? Grad-CAM heat maps
===============================================

:class:`~skbrain.explain.GradCAM` weighs the feature maps of a network's last
convolution block by how much they raise the tumor score, and draws the result
over the image: bright where the evidence for "tumor" was found.

First a check that the maps mean something: on synthetic slices, whose tumors
are known pixel by pixel, a trained network's maps should sit on the tumor and
an untrained one's should not. Then the maps of a small network trained on the
real images, drawn with :func:`~skbrain.plotting.plot_gradcam`.

Small settings (48 and 64 pixels, a few epochs) keep this page under a minute
on a CPU.
"""

import os
from pathlib import Path

import numpy as np
from sklearn.pipeline import Pipeline

from skbrain import (
    CNNClassifier,
    CompactCNNClassifier,
    ImageResizer,
    load_brain_mri,
    make_synthetic_mri,
)
from skbrain.evaluation import train_test_split_grouped
from skbrain.explain import GradCAM
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
train = make_synthetic_mri(64, image_size=48, random_state=0)
test = make_synthetic_mri(40, image_size=48, random_state=1)
positives = test.target == 1
params = {"architecture": "wide", "n_kernels": 8, "kernel_size": 11, "pool_size": 2,
          "random_state": 1}
trained = CNNClassifier(lr=0.01, max_epochs=10, **params).fit(train.data, train.target)
untrained = CNNClassifier(lr=1e-9, max_epochs=1, lr_schedule=None, **params)
untrained.fit(train.data[:8], train.target[:8])


def blob_scores(heatmaps, masks):
    inside = (heatmaps * masks).sum(axis=(1, 2)) / heatmaps.sum(axis=(1, 2)).clip(1e-12)
    ratio = (inside / masks.mean(axis=(1, 2))).mean()
    peaks = heatmaps.reshape(len(masks), -1).argmax(axis=1)
    hit = masks.reshape(len(masks), -1)[np.arange(len(masks)), peaks].mean()
    return ratio, hit


print(f"test accuracy of the trained network: "
      f"{(trained.predict(test.data) == test.target).mean():.0%}")
for name, model in (("trained", trained), ("untrained", untrained)):
    heatmaps = GradCAM(model).explain(test.data[positives])
    ratio, hit = blob_scores(heatmaps, test.masks[positives])
    print(f"{name:>9}: {ratio:.1f}x the blob's share of the map's mass inside the blob; "
          f"peak inside the blob for {hit:.0%} of the tumors")

# %%
# The trained network's maps, over the slices:
heatmaps = GradCAM(trained).explain(test.data[positives])
fig_synthetic = plot_gradcam(test.data[positives], heatmaps,
                             y_true=test.target[positives],
                             y_pred=trained.predict(test.data[positives]),
                             y_proba=trained.predict_proba(test.data[positives]), n=8)

# %%
# The real images
# ---------------
# A pipeline that reads the files, resizes them and classifies them can be
# explained directly: :class:`~skbrain.explain.GradCAM` runs the resizer
# first, so the maps come at the network's 64 x 64 pixels and
# :func:`~skbrain.plotting.plot_gradcam` stretches them over the original
# pictures. Without the real images, the synthetic slices stand in.
try:
    data = load_brain_mri()
    X, y, groups = data.data, data.target, data.groups
    print(f"The real images: {len(X)} files.")
except (OSError, ValueError) as exc:
    synthetic = make_synthetic_mri(200, image_size=64, random_state=0)
    X, y, groups = list(synthetic.data), synthetic.target, None
    print(f"The real images were not found ({exc}).\n"
          "This part uses make_synthetic_mri's slices instead: it says nothing about "
          "tumors.")

X_train, X_test, y_train, y_test = train_test_split_grouped(
    X, y, groups, test_size=0.25, random_state=0
)
model = Pipeline([
    ("resize", ImageResizer(64)),
    ("cnn", CompactCNNClassifier(max_epochs=10, random_state=0)),
])
model.fit(X_train, y_train)

# %%
# Maps of four tumor and four no-tumor test images. The default target is the
# tumor class, so a no-tumor image's map shows what little pointed to a tumor
# (an all-blue map: nothing did).
shown = np.concatenate([np.flatnonzero(y_test == 1)[:4], np.flatnonzero(y_test == 0)[:4]])
images = [X_test[i] for i in shown]
cam = GradCAM(model)
heatmaps = cam.explain(images)
print(f"explained layer: {cam.layer_name_}, maps of shape {heatmaps.shape}")
fig_real = plot_gradcam(images, heatmaps, y_true=y_test[shown], y_pred=model.predict(images),
                        y_proba=model.predict_proba(images), n=None)

# %%
# A small network trained for seconds finds coarse evidence; the maps say
# where it looked, not that it looked at the right thing. Read them together
# with the test scores, and remember that skbrain is a research tool, not a
# diagnostic device.
