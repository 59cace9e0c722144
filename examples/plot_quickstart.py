"""
Quick start: train and test the wide CNN
========================================

Load the brain MRI images, split them so that copies of one picture never sit
on both sides, train :class:`~skbrain.classifiers.WideCNNClassifier` behind
:class:`~skbrain.preprocessing.ImageResizer` in an sklearn pipeline, and score
it on the held-out images.

The settings are small (64 x 64 pixels, 8 epochs) so that this page builds in
seconds on a CPU; ``skbrain train --model wide`` trains with the full
defaults.
"""

import os
from pathlib import Path

from sklearn.pipeline import Pipeline

from skbrain import ImageResizer, WideCNNClassifier, load_brain_mri, make_synthetic_mri
from skbrain.evaluation import classification_scores, train_test_split_grouped
from skbrain.plotting import plot_history

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
# The images
# ----------
# :func:`~skbrain.datasets.load_brain_mri` reads the folder named by the
# ``SKBRAIN_DATA`` environment variable (``yes/`` and ``no/`` sub-folders) and
# returns file paths, labels (1 = tumor) and duplicate groups. Without the
# images, this example trains on synthetic slices instead.
try:
    data = load_brain_mri()
    X, y, groups = data.data, data.target, data.groups
    print(f"The real images: {len(X)} files, {y.sum()} with a tumor, "
          f"{len(set(groups))} distinct pictures.")
except (OSError, ValueError) as exc:
    synthetic = make_synthetic_mri(200, image_size=64, random_state=0)
    X, y, groups = synthetic.data, synthetic.target, None
    print(f"The real images were not found ({exc}).\n"
          "This page uses make_synthetic_mri's slices instead: its scores say nothing "
          "about tumors.")

# %%
# A duplicate-aware split
# -----------------------
# The folder holds copies of the same pictures. Keeping every copy on one side
# of the split makes the test score measure skill, not memory.
X_train, X_test, y_train, y_test = train_test_split_grouped(
    X, y, groups, test_size=0.25, random_state=0
)
print(f"{len(X_train)} training and {len(X_test)} test images")

# %%
# Train
# -----
# The pipeline takes file paths: :class:`~skbrain.preprocessing.ImageResizer`
# decodes and resizes them, the network trains on the resulting arrays.
# ``random_state`` makes the run repeatable; ``device="auto"`` (the default)
# would use a GPU if there were one.
model = Pipeline([
    ("resize", ImageResizer(64)),
    ("cnn", WideCNNClassifier(max_epochs=8, random_state=0)),
])
model.fit(X_train, y_train)

# %%
# Test
# ----
# The study reported accuracy, precision, recall and F1 of the tumor class;
# :func:`~skbrain.metrics.classification_scores` adds ROC AUC and two
# calibration scores when given the probabilities.
scores = classification_scores(y_test, model.predict(X_test), model.predict_proba(X_test))
for name, value in scores.items():
    print(f"{name:>9}: {value:.3f}")

# %%
# The training loss per epoch, from the skorch history of the fitted network:
fig = plot_history(model)
