"""
DICOM series with patient-level cross-validation
================================================

Hospital data comes as DICOM series, one folder per patient or series,
often without file extensions. :func:`~skbrain.datasets.load_dicom` lists
every slice with its class (from the class folders) and its patient (from the
PatientID tag), so :class:`~sklearn.model_selection.StratifiedGroupKFold`
keeps all slices of a patient on one side of every split: the score then
measures new patients, not neighbouring slices of patients already seen.

The series here are synthetic (written with pydicom: 16-bit values with
Rescale Slope/Intercept and a Window Center/Width, as scanners write them) and
the model is tiny, so the page builds in seconds.
"""

import tempfile
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, cross_validate
from sklearn.pipeline import make_pipeline

from skbrain import ImageResizer, SimpleCNNClassifier
from skbrain.datasets import load_dicom
from skbrain.plotting import plot_predictions

folder = Path(tempfile.mkdtemp()) / "series"
# sphinx_gallery_start_ignore
from skbrain.datasets._medical import _write_demo_series  # noqa: E402

_write_demo_series(folder, patients=[f"PAT{k:02d}" for k in range(8)], n_slices=8, size=48)
# sphinx_gallery_end_ignore

# %%
# The folder
# ----------
# One sub-folder per class, one folder per patient inside it, slice files
# without an extension (recognised by their content):
for patient in sorted(folder.glob("*/*"))[:3]:
    names = sorted(p.name for p in patient.iterdir())
    print(patient.relative_to(folder), names[:3], "...")

# %%
# Slices, labels and patient groups
# ---------------------------------
data = load_dicom(folder)
print(len(data.data), "slices of", len(set(data.groups)), "patients")
print(data.target_names, np.bincount(data.target))
print(data.groups[:3])

# %%
# Patient-level cross-validation
# ------------------------------
# The resizer reads each slice through the file's window; the classifier
# sees 32 x 32 single-channel images.
model = make_pipeline(
    ImageResizer(32, channels=1),
    SimpleCNNClassifier(n_kernels=8, max_epochs=20, random_state=0),
)
cv = StratifiedGroupKFold(n_splits=4)
scores = cross_validate(model, data.data, data.target, groups=data.groups, cv=cv,
                        scoring=["accuracy", "roc_auc"])
for fold, train_test in enumerate(cv.split(data.data, data.target, data.groups)):
    train_patients = set(data.groups[train_test[0]])
    test_patients = set(data.groups[train_test[1]])
    assert not train_patients & test_patients
    print(f"fold {fold}: test patients {sorted(p.split(':')[1] for p in test_patients)}, "
          f"accuracy {scores['test_accuracy'][fold]:.2f}")
print(f"mean ROC AUC over folds: {scores['test_roc_auc'].mean():.2f}")

# %%
# Predictions per slice and per series
# ------------------------------------
# :func:`~skbrain.inference.predict_images` streams files in batches and adds
# one row per series (here the max of its slices' tumor probabilities), as
# ``skbrain predict MODEL series_dir/`` prints them.
from skbrain.datasets import expand_scans  # noqa: E402
from skbrain.inference import predict_images  # noqa: E402

model.fit(data.data, data.target)
images, scans = expand_scans([folder / "yes"])
for row in predict_images(model, images, scans=scans, aggregate="max"):
    if row.kind == "scan":
        print(f"{row.n_slices} slices: p(tumor) = {row.p_tumor:.2f} -> {row.label}")

# %%
# The slices as the model reads them (the file's window applied), with the
# labels of the model fitted on all patients:
shown = np.arange(0, len(data.data), 8)
plot_predictions(data.data[shown], data.target[shown], model.predict(data.data[shown]),
                 model.predict_proba(data.data[shown]), n=len(shown),
                 class_names=data.target_names)
