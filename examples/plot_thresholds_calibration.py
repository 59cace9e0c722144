"""
Recall first: decision thresholds, calibration, model card and ONNX
===================================================================

A missed tumor costs more than a false alarm, so a screen should be tuned for
recall. skbrain estimators are scikit-learn classifiers, so sklearn's own
wrappers do it:

* :class:`~sklearn.model_selection.TunedThresholdClassifierCV` picks the
  decision threshold by cross-validation, here the one with the best
  precision among those whose recall reaches 95 %;
* :class:`~sklearn.model_selection.FixedThresholdClassifier` applies a
  threshold you choose;
* :class:`~sklearn.calibration.CalibratedClassifierCV` makes the
  probabilities mean what they say.

The end of the page writes a model card with :func:`~skbrain.model_card.model_card`
and exports the network to ONNX with :func:`~skbrain.export.to_onnx`.

The images are resized once up front and the networks are small (64 x 64
pixels, 8 epochs), so this page builds in about a minute on a CPU.
"""

import os
import tempfile
from pathlib import Path

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import make_scorer, precision_score, recall_score
from sklearn.model_selection import (
    FixedThresholdClassifier,
    StratifiedGroupKFold,
    TunedThresholdClassifierCV,
)

from skbrain import CompactCNNClassifier, ImageResizer, load_brain_mri, make_synthetic_mri
from skbrain.evaluation import classification_scores, train_test_split_grouped
from skbrain.model_card import model_card
from skbrain.plotting import plot_calibration

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
# The images and a duplicate-aware split
# --------------------------------------
try:
    data = load_brain_mri()
    X, y, groups = ImageResizer(64).transform(data.data), data.target, data.groups
    print(f"The real images: {len(X)} files.")
except (OSError, ValueError) as exc:
    synthetic = make_synthetic_mri(200, image_size=64, random_state=0)
    X, y, groups = synthetic.data[:, None] / np.float32(255), synthetic.target, np.arange(200)
    print(f"The real images were not found ({exc}).\n"
          "This page uses make_synthetic_mri's slices instead: its scores say nothing "
          "about tumors.")

train, test, y_train, y_test = train_test_split_grouped(np.arange(len(y)), y, groups,
                                                        test_size=0.25, random_state=0)
X_train, X_test, g_train = X[train], X[test], groups[train]
cnn = CompactCNNClassifier(max_epochs=8, random_state=0)

# %%
# A threshold for 95 % recall
# ---------------------------
# The objective: precision where recall is at least 95 %, and a negative score
# (recall - 1) where it is not, so thresholds that miss the floor never win.
# The folds keep duplicate pictures together, like the test split does;
# sklearn takes the precomputed folds as they are.


def precision_at_recall(y_true, y_pred, min_recall=0.95):
    recall = recall_score(y_true, y_pred)
    return precision_score(y_true, y_pred, zero_division=0) if recall >= min_recall else recall - 1


folds = list(StratifiedGroupKFold(3, shuffle=True, random_state=0).split(X_train, y_train,
                                                                           g_train))
tuned = TunedThresholdClassifierCV(cnn, scoring=make_scorer(precision_at_recall), cv=folds)
tuned.fit(X_train, y_train)
print(f"chosen threshold: {tuned.best_threshold_:.3f}")

for name, y_pred in (("0.5 (argmax)", tuned.estimator_.predict(X_test)),
                     (f"{tuned.best_threshold_:.3f} (tuned)", tuned.predict(X_test))):
    scores = classification_scores(y_test, y_pred)
    print(f"threshold {name:>15}: recall {scores['recall']:.3f}, "
          f"precision {scores['precision']:.3f}")

# %%
# :class:`~sklearn.model_selection.FixedThresholdClassifier` sets a threshold
# by hand. Around a :class:`~sklearn.frozen.FrozenEstimator` it reuses a
# fitted network instead of training a new one; ``skbrain train --min-recall
# 0.95`` saves its model this way, at the threshold tuned as above.
fixed = FixedThresholdClassifier(FrozenEstimator(tuned.estimator_), threshold=0.3)
fixed.fit(X_train, y_train)
print(f"threshold 0.3: recall {recall_score(y_test, fixed.predict(X_test)):.3f}")

# %%
# Calibration
# -----------
# ``CalibratedClassifierCV(cnn, cv=3)`` trains three networks, each with a
# sigmoid fitted on the images it did not see, and averages them. The
# reliability diagrams compare the probabilities before and after; the
# titles give the expected calibration error and the Brier score.
calibrated = CalibratedClassifierCV(cnn, cv=3).fit(X_train, y_train)
fig_before = plot_calibration(y_test, fixed.predict_proba(X_test), n_bins=5)
fig_before.axes[0].set_title("before: " + fig_before.axes[0].get_title())
fig_after = plot_calibration(y_test, calibrated.predict_proba(X_test), n_bins=5)
fig_after.axes[0].set_title("after: " + fig_after.axes[0].get_title())

# %%
# A model card and an ONNX file
# -----------------------------
# :func:`~skbrain.model_card.model_card` describes the tuned model in Markdown:
# architecture, training data, test scores with 95 % bootstrap intervals, the
# threshold, calibration, intended use and the warning that this is a
# research tool, not a diagnostic device.
card = model_card(tuned, X_test, y_test, training_info={
    "n_images": len(y_train),
    "class_counts": {1: int(y_train.sum()), 0: int((y_train == 0).sum())},
    "duplicates": "copies of one picture are kept on one side of the split",
})
print("\n".join(card.splitlines()[:12]))

# %%
# ``to_onnx`` writes the network with a softmax, for onnxruntime and other
# runtimes: float32 images in [0, 1], any batch size, class probabilities out.
try:
    from skbrain.export import to_onnx

    path = to_onnx(tuned.estimator_, Path(tempfile.mkdtemp()) / "compact.onnx",
                   image_size=64)
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path))
    proba = session.run(None, {"images": X_test[:8].astype(np.float32)})[0]
    difference = np.abs(proba - tuned.estimator_.predict_proba(X_test[:8])).max()
    print(f"ONNX and PyTorch probabilities differ by at most {difference:.1e}")
except ImportError as exc:
    print(f"ONNX export skipped: {exc}")
