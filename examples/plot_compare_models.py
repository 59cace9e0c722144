"""
Compare models on the same splits
=================================

The study compared its hand-made networks and eleven pretrained ones in one
table. :func:`~skbrain.evaluation.compare_models` does the same: it trains a
fresh copy of every estimator on each of the same duplicate-aware splits and
reports the mean and standard deviation of each score.

Small settings (48 x 48 pixels, 4 epochs, 2 splits) keep this page under a
minute on a CPU; ``skbrain compare --models simple,two-conv,wide,deep,pyramid
--repeats 5`` runs the full comparison.
"""

import os
from pathlib import Path

from skbrain import (
    DeepCNNClassifier,
    ImageResizer,
    SimpleCNNClassifier,
    WideCNNClassifier,
    load_brain_mri,
    make_synthetic_mri,
)
from skbrain.evaluation import compare_models
from skbrain.plotting import plot_comparison

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
# The images, resized once
# ------------------------
# Every model trains on the same arrays, so each file is decoded once rather
# than once per fit.
try:
    data = load_brain_mri()
    paths, y, groups = data.data, data.target, data.groups
    print(f"The real images: {len(paths)} files.")
except (OSError, ValueError) as exc:
    synthetic = make_synthetic_mri(160, image_size=48, random_state=0)
    paths, y, groups = synthetic.data, synthetic.target, None
    print(f"The real images were not found ({exc}).\n"
          "This page uses make_synthetic_mri's slices instead: its scores say nothing "
          "about tumors.")
X = ImageResizer(48).fit_transform(paths)
print(X.shape, X.dtype)

# %%
# Three of the study's designs
# ----------------------------
# Each estimator gets its own ``random_state`` so the comparison repeats
# exactly; ``compare_models``'s ``random_state`` seeds the splits.
models = {
    "simple": SimpleCNNClassifier(max_epochs=4, random_state=0),
    "wide": WideCNNClassifier(max_epochs=4, random_state=0),
    "deep": DeepCNNClassifier(max_epochs=4, random_state=0),
}
table = compare_models(models, X, y, groups, n_repeats=2, test_size=0.25, random_state=0)
print(table)

# %%
# The same table as Markdown, ready for a report, and as a bar chart with
# one standard deviation as error bars:
print(table.to_markdown())
fig = plot_comparison(table)
