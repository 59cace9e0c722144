"""
Look at the predictions
=======================

The study showed test images with their true and predicted labels. This
example trains a small network, then draws the same figure with
:func:`~skbrain.plotting.plot_predictions`, the confusion matrix with
:func:`~skbrain.plotting.plot_confusion_matrix`, and a reliability diagram
with :func:`~skbrain.plotting.plot_calibration`.

Small settings (64 x 64 pixels, 10 epochs) keep this page under a minute on a
CPU.
"""

import os
from pathlib import Path

import numpy as np
from sklearn.pipeline import Pipeline

from skbrain import DeepCNNClassifier, ImageResizer, load_brain_mri, make_synthetic_mri
from skbrain.evaluation import train_test_split_grouped
from skbrain.plotting import plot_calibration, plot_confusion_matrix, plot_predictions

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
# Train a small network
# ---------------------
try:
    data = load_brain_mri()
    X, y, groups = data.data, data.target, data.groups
    print(f"The real images: {len(X)} files.")
except (OSError, ValueError) as exc:
    synthetic = make_synthetic_mri(200, image_size=64, random_state=0)
    X, y, groups = synthetic.data, synthetic.target, None
    print(f"The real images were not found ({exc}).\n"
          "This page uses make_synthetic_mri's slices instead: its scores say nothing "
          "about tumors.")

X_train, X_test, y_train, y_test = train_test_split_grouped(
    X, y, groups, test_size=0.25, random_state=0
)
model = Pipeline([
    ("resize", ImageResizer(64)),
    ("cnn", DeepCNNClassifier(max_epochs=10, random_state=0)),
])
model.fit(X_train, y_train)
y_pred = model.predict(X_test)
y_proba = model.predict_proba(X_test)

# %%
# Test images with their labels
# -----------------------------
# File paths (or arrays) go in as they are. Titles of correct predictions are
# green, wrong ones red; ``p`` is the predicted probability of a tumor. Up to
# four wrong predictions come first, since they teach the most, then two right
# ones of each class.
correct = y_test == y_pred
shown = np.concatenate([
    np.flatnonzero(~correct)[:4],
    np.flatnonzero(correct & (y_test == 0))[:2],
    np.flatnonzero(correct & (y_test == 1))[:2],
])
fig_predictions = plot_predictions(
    np.asarray(X_test)[shown], y_test[shown], y_pred[shown], y_proba[shown], n=None
)

# %%
# The confusion matrix
# --------------------
# Rows are the true classes, columns the predicted ones. For screening, the
# missed tumors (true "tumor", predicted "no tumor") matter most.
fig_confusion = plot_confusion_matrix(y_test, y_pred)

# %%
# Calibration
# -----------
# Does a predicted 80 % tumor probability come true four times in five? The
# reliability diagram bins the test images by predicted probability.
fig_calibration = plot_calibration(y_test, y_proba, n_bins=5)
