"""Brain MRI images: the Kaggle folder, its download, its duplicates, and synthetic slices.

- :func:`load_brain_mri` lists a folder of class sub-folders (``yes/``, ``no/``)
  as file paths, labels and duplicate groups.
- :func:`fetch_brain_mri` downloads the 253 Kaggle images (checked by sha256)
  into :func:`get_data_home` and loads them.
- :func:`find_duplicate_groups` gives copies of one picture one group id.
- :func:`make_synthetic_mri` draws brain-like slices with and without a
  tumour-like blob, for tests and examples that need no data files.
- :func:`load_dicom` and :func:`load_nifti` list DICOM series and NIfTI volumes
  as 2-D slices, with groups from the PatientID (needs ``skbrain[medical]``).
- :func:`load_images` reads a folder of class sub-folders with whichever of
  the two fits its files (DICOM by content), adding what reports need.
- :func:`load_lgg_flair` lists FLAIR slices of glioma patients with their
  tumor masks and one group per patient.
- :func:`combine_collections` joins several loaded collections into one
  training set, with near-copies grouped across them.
"""

from ._brain_mri import binarize_classes, describe_labels, get_data_home, load_brain_mri
from ._combine import combine_collections
from ._duplicates import find_duplicate_groups
from ._fetch import fetch_brain_mri
from ._folder import BINARY_CLASS_NAMES, class_name, describe_images, holds_dicom, load_images
from ._lgg import head_fraction, load_lgg_flair
from ._medical import expand_scans, load_dicom, load_nifti
from ._synthetic import make_synthetic_mri

__all__ = [
    "binarize_classes",
    "combine_collections",
    "describe_labels",
    "fetch_brain_mri",
    "find_duplicate_groups",
    "get_data_home",
    "load_brain_mri",
    "make_synthetic_mri",
    "load_dicom",
    "load_lgg_flair",
    "head_fraction",
    "load_nifti",
    "expand_scans",
    "load_images",
    "describe_images",
    "holds_dicom",
    "BINARY_CLASS_NAMES",
    "class_name",
]
