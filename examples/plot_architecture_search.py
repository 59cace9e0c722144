"""
Architecture search: simple, two-conv, wide, deep or pyramid?
=============================================================

The study compared its hand-made designs by hand, one script per network.
In skbrain the architecture is a hyperparameter of
:class:`~skbrain.classifiers.CNNClassifier`, so the comparison is one
:class:`~sklearn.model_selection.RandomizedSearchCV`, cross-validated so that
copies of one picture never sit on both sides of a fold.

The settings are small (48 x 48 grayscale images, 8 epochs, 16 kernels) so
that this page builds in under a minute on a CPU. For a study-size run use
``IMAGE_SIZE = 150``, ``MAX_EPOCHS = 30``, three channels, and let the search
tune each architecture's kernels as well::

    space = default_search_space(CNNClassifier())   # architecture, kernels, lr, ...
    search = run_search(CNNClassifier(), X, y, groups, param_distributions=space,
                        n_iter=60, cv=3, scoring=["f1", "recall", "roc_auc"])
"""

import os
import time
from pathlib import Path

from skbrain import CNNClassifier, ImageResizer, load_brain_mri, make_synthetic_mri
from skbrain.plotting import plot_search
from skbrain.search import STUDY_ARCHITECTURES, architecture_scores, run_search, search_report

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

IMAGE_SIZE = 48
MAX_EPOCHS = 8

# %%
# The images
# ----------
# :func:`~skbrain.datasets.load_brain_mri` gives file paths, labels (1 =
# tumor) and duplicate groups. The images are resized once, before the search:
# a pipeline with :class:`~skbrain.preprocessing.ImageResizer` would decode
# every image again for every fold of every candidate.
try:
    data = load_brain_mri()
    X = ImageResizer(IMAGE_SIZE, channels=1).fit_transform(data.data)
    y, groups = data.target, data.groups
    print(f"The real images: {len(X)} files, {len(set(groups))} distinct pictures.")
except (OSError, ValueError) as exc:
    synthetic = make_synthetic_mri(150, image_size=IMAGE_SIZE, random_state=0)
    X, y, groups = synthetic.data, synthetic.target, None
    print(f"The real images were not found ({exc}).\n"
          "This page uses make_synthetic_mri's slices instead: its scores say nothing "
          "about tumors.")

# %%
# One search over the architectures
# ---------------------------------
# :func:`~skbrain.search.run_search` is a
# :class:`~sklearn.model_selection.RandomizedSearchCV` with leak-free folds
# (stratified and grouped by the duplicate groups), seeded estimators and
# scorers that know which label is the tumor. Every architecture gets the
# same kernel count, kernel size, learning rate and epochs here, so the
# comparison is of the layer layouts alone; ``"simple"`` and ``"wide"`` are
# then the same one-layer network and score alike (the wide net's edge in the
# study came from its 7 x 7 kernels and kernel count, which the wide-net
# search tunes).
start = time.perf_counter()
search = run_search(
    CNNClassifier(n_kernels=16, kernel_size=5, lr=1e-2, max_epochs=MAX_EPOCHS,
                  batch_size=16),
    X, y, groups,
    param_distributions={"architecture": list(STUDY_ARCHITECTURES)},
    n_iter=len(STUDY_ARCHITECTURES),
    cv=3,
    scoring=["f1", "recall", "roc_auc"],
    random_state=0,
)
print(f"{len(search.cv_results_['params'])} candidates x 3 folds in "
      f"{time.perf_counter() - start:.0f} s")

# %%
# The scores per architecture
# ---------------------------
# :func:`~skbrain.search.architecture_scores` gives each architecture's best
# candidate, mean ± sd over the three folds, best first (the table is a
# :class:`~skbrain.tables.ResultsTable`: ``to_csv`` and ``to_markdown``
# write it out).
print(architecture_scores(search))

# %%
# :func:`~skbrain.search.search_report` ranks every candidate; with one
# parameter searched it is the same list, named by parameter values.
print(search_report(search, scorers=["f1", "roc_auc"]))
print("best:", search.best_params_, f"F1 {search.best_score_:.3f}")

# %%
# :func:`~skbrain.plotting.plot_search` draws the CV score against each
# searched parameter, the best candidate in red:
fig = plot_search(search)
