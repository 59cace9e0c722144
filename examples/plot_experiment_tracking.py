"""
Experiment tracking with skorch callbacks
=========================================

The study tracked its searches in Weights & Biases. skbrain ties you to no
tracking service: every estimator takes skorch callbacks through
``callbacks=[...]``, so skorch's own
:class:`~skorch.callbacks.TensorBoard`, :class:`~skorch.callbacks.WandbLogger`
and :class:`~skorch.callbacks.MlflowLogger` plug in unchanged, and so does a
callback of your own. Nothing on this page needs a tracking service: the part
that runs logs to a CSV file.
"""

import csv
import os
import tempfile
from pathlib import Path

from skorch.callbacks import Callback

from skbrain import ImageResizer, WideCNNClassifier, load_brain_mri, make_synthetic_mri
from skbrain.search import run_search, search_report

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

try:
    data = load_brain_mri()
    X = ImageResizer(32, channels=1).fit_transform(data.data)
    y, groups = data.target, data.groups
    print(f"The real images: {len(X)} files.")
except (OSError, ValueError) as exc:
    synthetic = make_synthetic_mri(120, image_size=32, random_state=0)
    X, y, groups = synthetic.data, synthetic.target, None
    print(f"The real images were not found ({exc}); using make_synthetic_mri's slices.")

# %%
# A callback of your own
# ----------------------
# A skorch callback sees the network after every batch and epoch; the
# epoch's row of ``net.history`` holds its loss and duration. This one
# appends a row per epoch to a CSV file. It opens the file when training
# starts, not in ``__init__``: sklearn clones estimators (a deep copy) for
# every fold of a search, and a search on a Dask cluster pickles them to the
# workers, so a callback must not hold an open file or connection between
# fits.


class CSVEpochLogger(Callback):
    """Append ``run, epoch, train_loss, seconds`` to a CSV file after each epoch."""

    def __init__(self, path, run="fit"):
        self.path = path
        self.run = run

    def on_train_begin(self, net, **kwargs):
        self.file_ = open(self.path, "a", newline="")
        self.writer_ = csv.writer(self.file_)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        self.writer_.writerow([self.run, row["epoch"], f"{row['train_loss']:.4f}",
                               f"{row['dur']:.2f}"])

    def on_train_end(self, net, **kwargs):
        self.file_.close()
        del self.file_, self.writer_


log_dir = Path(tempfile.mkdtemp())
log = log_dir / "epochs.csv"
clf = WideCNNClassifier(n_kernels=16, max_epochs=5, lr=1e-2, random_state=0,
                        callbacks=[CSVEpochLogger(log, run="single fit")])
clf.fit(X, y)
print(log.read_text())

# %%
# The same numbers are in the fitted estimator's skorch history:
print([round(float(loss), 4) for loss in clf.history_[:, "train_loss"]])

# %%
# In a search
# -----------
# Each candidate and fold trains a fresh clone, whose copy of the callback
# logs that fit: 2 candidates x 2 folds, plus the refit on all images, give
# five runs in the file.
log.unlink()
search = run_search(
    WideCNNClassifier(n_kernels=16, max_epochs=3, lr=1e-2,
                      callbacks=[CSVEpochLogger(log, run="search")]),
    X, y, groups,
    param_distributions={"kernel_size": [3, 7]},
    n_iter=2,
    cv=2,
)
rows = list(csv.reader(log.open()))
print(f"{len(rows)} epoch rows = {len(rows) // 3} fits of 3 epochs")

# %%
# The search's own summary is the run-level record to keep beside them:
# ``search_report(search).to_csv(...)`` or ``.to_json(...)``.
print(search_report(search))

# %%
# TensorBoard
# -----------
# skorch's :class:`~skorch.callbacks.TensorBoard` writes every history key
# (losses, durations, any scores) per epoch through a ``SummaryWriter``
# (``pip install tensorboard``; view with ``tensorboard --logdir runs``):
try:
    from torch.utils.tensorboard import SummaryWriter
except ImportError:
    SummaryWriter = None
    print("tensorboard is not installed; skipping the TensorBoard run")

if SummaryWriter is not None:
    from skorch.callbacks import TensorBoard

    writer = SummaryWriter(log_dir=str(log_dir / "runs" / "wide"))
    WideCNNClassifier(n_kernels=16, max_epochs=3, callbacks=[TensorBoard(writer)]).fit(X, y)
    print("TensorBoard logs in", log_dir / "runs" / "wide")

# %%
# Weights & Biases and MLflow
# ---------------------------
# Both take a live run object, which is why they suit single fits (a run
# object does not survive a clone or a trip to a Dask worker; for a search,
# log ``search_report(search)`` to the run afterwards)::
#
#     import wandb
#     from skorch.callbacks import WandbLogger
#
#     run = wandb.init(project="skbrain")
#     WideCNNClassifier(callbacks=[WandbLogger(run, save_model=False)]).fit(X, y)
#
#     import mlflow
#     from skorch.callbacks import MlflowLogger
#
#     with mlflow.start_run() as run:
#         WideCNNClassifier(callbacks=[MlflowLogger(run, create_artifact=False)]).fit(X, y)
#
# skorch's :class:`~skorch.callbacks.ProgressBar` (a tqdm bar per epoch) and
# ``verbose=1`` (one table row per epoch) print progress without any service.

# sphinx_gallery_start_ignore
import shutil  # noqa: E402

shutil.rmtree(log_dir, ignore_errors=True)
# sphinx_gallery_end_ignore
