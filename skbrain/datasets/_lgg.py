"""FLAIR slices of lower-grade-glioma patients, with their tumor masks and patient groups."""

import csv
import os
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.utils import Bunch

__all__ = ["load_lgg_flair", "head_fraction"]

ENV_VAR = "SKBRAIN_DATA_LGG"
_COLUMNS = ("relpath", "label", "patient")


def head_fraction(path, threshold=10):
    """The share of an image's pixels brighter than ``threshold`` (grey levels 0-255).

    A slice at the skull base or the top of the head shows little of it;
    ``head_fraction(path) >= 0.4`` keeps mid-brain slices.

    Parameters
    ----------
    path : str, os.PathLike or ndarray
        An image file, or a greyscale image as a 2-D uint8 array (as its file
        would read in mode ``"L"``).
    threshold : float, default=10
        The grey level above which a pixel counts as head, as in
        :class:`~skbrain.preprocessing.ImageResizer`'s ``foreground_threshold``.

    Returns
    -------
    float
    """
    if isinstance(path, np.ndarray):
        if path.ndim != 2 or path.dtype != np.uint8:
            raise ValueError(f"head_fraction: expected a 2-D uint8 image, got an array of "
                             f"shape {path.shape} and dtype {path.dtype}")
        pixels = path
    else:
        with Image.open(path) as img:
            pixels = np.asarray(img.convert("L"))
    return float(np.mean(pixels > threshold))


def load_lgg_flair(path=None):
    """Load the FLAIR slices of lower-grade-glioma patients as paths, labels and patients.

    The folder holds ``images/tumor/``, ``images/notumor/``, ``masks/`` (one
    0/255 mask per tumor slice, in the slice's geometry) and a
    ``MANIFEST.csv`` with the columns ``relpath``, ``label``, ``patient``,
    ``slice``, ``tumor_area_px`` and ``mask``, as skbrain's copy of the
    TCGA-LGG segmentation set of Buda et al. (2019) is laid out. Every
    patient has a tumor: the tumor-free slices are the same patients' other
    slices, so split by ``groups`` (one per patient), never by image.

    Parameters
    ----------
    path : str or os.PathLike, default=None
        The folder; ``None`` uses the ``SKBRAIN_DATA_LGG`` environment
        variable.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        data, filenames : ndarray of str
            Absolute image paths, in the manifest's order.
        target : ndarray of int64
            1 for a slice with tumor, 0 without.
        target_names : ndarray of str
            ``["notumor", "tumor"]``.
        groups : ndarray of int64
            One id per patient.
        patient : ndarray of str
            The patient id of each slice.
        masks : ndarray of str
            The absolute path of each tumor slice's mask, ``""`` for the others.
        slice : ndarray of int64
            The slice's number in its patient's volume, from the manifest's
            ``slice`` column (-1 where it has none); in skbrain's copy the
            numbers run from the skull base up.
        tumor_area : ndarray of int64
            The mask's area in pixels (0 without tumor).
        head_fraction : ndarray of float
            :func:`head_fraction` of each slice, to select mid-brain slices.
        DESCR : str
            The folder's ``SOURCE.md`` when present.

    Raises
    ------
    ValueError
        If no folder is given and ``SKBRAIN_DATA_LGG`` is unset, or the folder
        has no ``MANIFEST.csv`` with the columns above, or a listed file is
        missing.
    """
    if path is None:
        path = os.environ.get(ENV_VAR)
        if not path:
            raise ValueError(f"load_lgg_flair needs a folder: pass path= or set {ENV_VAR}")
    folder = Path(os.fspath(path)).expanduser().resolve()
    manifest = folder / "MANIFEST.csv"
    if not manifest.is_file():
        raise ValueError(f"{str(folder)!r} has no MANIFEST.csv; expected the columns "
                         f"{', '.join(_COLUMNS)} (and mask, tumor_area_px)")
    with open(manifest, newline="") as f:
        rows = list(csv.DictReader(f))
    missing = [c for c in _COLUMNS if rows and c not in rows[0]]
    if not rows or missing:
        raise ValueError(f"{str(manifest)!r}: expected the columns {', '.join(_COLUMNS)}; "
                         f"missing {missing or 'every row'}")
    paths = [folder / r["relpath"] for r in rows]
    masks = [folder / r["mask"] if r.get("mask") else None for r in rows]
    absent = [str(p) for p in paths + masks if p is not None and not p.is_file()]
    if absent:
        raise ValueError(f"{len(absent)} file(s) listed in {str(manifest)!r} do not exist, "
                         f"such as {absent[0]!r}")
    target = np.array([r["label"] == "tumor" for r in rows], dtype=np.int64)
    patient = np.array([r["patient"] for r in rows], dtype=str)
    _, groups = np.unique(patient, return_inverse=True)
    source = folder / "SOURCE.md"
    data = np.array([str(p) for p in paths], dtype=str)
    return Bunch(
        data=data,
        filenames=data.copy(),
        target=target,
        target_names=np.array(["notumor", "tumor"], dtype=str),
        groups=groups.astype(np.int64),
        patient=patient,
        masks=np.array(["" if m is None else str(m) for m in masks], dtype=str),
        slice=np.array([int(r.get("slice") or -1) for r in rows], dtype=np.int64),
        tumor_area=np.array([int(r.get("tumor_area_px") or 0) for r in rows], dtype=np.int64),
        head_fraction=np.array([head_fraction(p) for p in paths]),
        DESCR=source.read_text() if source.is_file() else "",
    )
