"""
Tuning the wide CNN: the study's second search
==============================================

After the architecture search, the study tuned its winner, the wide
one-layer network, over kernel count, kernel size, pooling, dropout, epochs,
batch size and learning rate. :func:`~skbrain.search.default_search_space`
ships that space with :class:`~skbrain.classifiers.WideCNNClassifier`, and
:func:`~skbrain.search.run_search` runs it as a plain
:class:`~sklearn.model_selection.RandomizedSearchCV` with leak-free folds.

The settings are small (48 x 48 grayscale images, 4 candidates, at most 10
epochs) so that this page builds in under a minute on a CPU. The study-size
search is ``IMAGE_SIZE = 150``, three channels, ``N_ITER = 40`` and the
shipped epoch range (5 to 40), best spread over a Dask cluster (end of this
page).
"""

import os
import time
from pathlib import Path

from scipy.stats import randint

from skbrain import ImageResizer, WideCNNClassifier, load_brain_mri, make_synthetic_mri
from skbrain.plotting import plot_search
from skbrain.search import default_search_space, run_search, search_report

# sphinx_gallery_start_ignore
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
N_ITER = 4

# %%
# The images
# ----------
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
# The shipped search space
# ------------------------
# scipy.stats distributions and lists, keyed by the estimator's own
# parameter names (``randint(a, b)`` draws ``a`` to ``b - 1``). It is a plain
# dict: change any entry. Here the epochs are capped to keep the page fast.
space = default_search_space(WideCNNClassifier())
for name, values in space.items():
    shown = values if isinstance(values, list) else f"{values.dist.name}{values.args}"
    print(f"{name:>11}: {shown}")
space["max_epochs"] = randint(5, 11)

# %%
# The search
# ----------
# Three grouped, stratified folds; F1 picks the best candidate, recall and
# ROC AUC are recorded beside it.
start = time.perf_counter()
search = run_search(
    WideCNNClassifier(),
    X, y, groups,
    param_distributions=space,
    n_iter=N_ITER,
    cv=3,
    scoring=["f1", "recall", "roc_auc"],
    random_state=0,
)
print(f"{N_ITER} candidates x 3 folds in {time.perf_counter() - start:.0f} s")

# %%
# The candidates, best first (mean ± sd over the folds):
report = search_report(search)
print(report)
print(f"best: {report.models[0]}, CV F1 {search.best_score_:.3f}")

# %%
# ``report.to_csv("wide_search.csv")`` and ``report.to_markdown()`` write the
# same table out. The score against each hyperparameter, the best candidate in
# red (with more candidates, this is where the trends show):
fig = plot_search(search)

# %%
# The same search on a Dask cluster
# ---------------------------------
# With ``pip install skbrain[distributed]``, the candidates and folds run on
# the workers of a ``dask.distributed`` cluster: give ``run_search`` the
# scheduler's address (or a ``Client``)::
#
#     from dask.distributed import LocalCluster
#
#     cluster = LocalCluster(n_workers=2, threads_per_worker=1)  # or a real cluster
#     search = run_search(WideCNNClassifier(), X, y, groups, param_distributions=space,
#                         n_iter=40, cv=3, scheduler=cluster.scheduler_address)
#
# which is sklearn's own recipe underneath::
#
#     import joblib
#     from dask.distributed import Client
#
#     client = Client("tcp://scheduler:8786")
#     with joblib.parallel_backend("dask"):
#         RandomizedSearchCV(..., n_jobs=-1).fit(X, y, groups=groups)
#
# With the same ``random_state`` the cluster finds the same best parameters as
# the local run. On GPUs, start one worker per card with
# ``CUDA_VISIBLE_DEVICES`` (see :mod:`skbrain.search`).
