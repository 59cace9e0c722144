"""One entry point for a folder of class sub-folders, whatever the images are.

:func:`load_images` looks at the files' content: a folder of DICOM files is
read by :func:`~skbrain.datasets.load_dicom` (groups from the PatientID), any
other by :func:`~skbrain.datasets.load_brain_mri` (groups of near-identical
pictures). Both give the same Bunch, plus what a report needs: the folder,
each image's path inside it, and display names for the classes.
"""

import os
from pathlib import Path

import numpy as np

from .._imageio import is_dicom_file
from ._brain_mri import binarize_classes, describe_labels, load_brain_mri
from ._medical import load_dicom

__all__ = ["BINARY_CLASS_NAMES", "class_name", "describe_images", "holds_dicom", "load_images"]

#: Display names of the two-class task's labels, used by every table, figure and card.
BINARY_CLASS_NAMES = {0: "no tumor", 1: "tumor"}
# Picture formats are never DICOM inside; skipping them spares reading every JPEG's header.
_PICTURE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def class_name(label, class_names=None):
    """Display name of ``label``.

    Parameters
    ----------
    label : object
        A class label.
    class_names : dict, sequence or None, default=None
        A dict from label (or its ``str``, as JSON keys are) to name, or names
        indexed by integer label. ``None`` names 0 "no tumor" and 1 "tumor"
        (:data:`BINARY_CLASS_NAMES`); any other label is shown as it is.

    Examples
    --------
    >>> class_name(1), class_name("glioma"), class_name(0, ["healthy", "sick"])
    ('tumor', 'glioma', 'healthy')
    """
    key = label.item() if isinstance(label, np.generic) else label
    if class_names is None:
        class_names = BINARY_CLASS_NAMES
    elif not isinstance(class_names, dict):
        return str(class_names[int(key)])
    if isinstance(key, bool) or not isinstance(key, (int, str)):
        return str(label)
    return str(class_names.get(key, class_names.get(str(key), label)))


def holds_dicom(folder):
    """Tell whether a folder holds DICOM files (by content, at any depth).

    Parameters
    ----------
    folder : str or os.PathLike

    Returns
    -------
    bool

    Examples
    --------
    >>> import tempfile
    >>> from skbrain.datasets._medical import _write_demo_series
    >>> folder = tempfile.mkdtemp()
    >>> holds_dicom(folder)
    False
    >>> _write_demo_series(folder, patients=["P1"], n_slices=1)
    >>> holds_dicom(folder)
    True
    >>> import shutil; shutil.rmtree(folder)
    """
    for parent, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if Path(name).suffix.lower() in _PICTURE_SUFFIXES or name.startswith("."):
                continue
            if is_dicom_file(os.path.join(parent, name)):
                return True
    return False


def load_images(folder, *, negative=None):
    """Load a folder of class sub-folders for training or testing, DICOM or pictures.

    A folder holding DICOM files is read with
    :func:`~skbrain.datasets.load_dicom`, so the groups that keep images
    together in a split are patients; any other with
    :func:`~skbrain.datasets.load_brain_mri`, whose groups are copies and
    near-copies of one picture. Nothing is written.

    Parameters
    ----------
    folder : str or os.PathLike
        One sub-folder per class (``yes/`` and ``no/``, or
        ``glioma/ meningioma/ notumor/ pituitary/``).
    negative : str, default=None
        The class folder that means no tumor: every other class becomes
        tumor (:func:`~skbrain.datasets.binarize_classes`). A two-class
        folder without such a sub-folder is already tumor / no tumor and is
        kept as it is.

    Returns
    -------
    :class:`~sklearn.utils.Bunch`
        ``data``, ``target``, ``target_names`` and ``groups`` as the loaders
        give them, and

        root : pathlib.Path
            The resolved folder.
        relpaths : list of str
            Each image's path inside the folder, with ``/`` (a symlinked
            image keeps its name inside the folder).
        class_names : dict
            Display name per label: ``{0: "no tumor", 1: "tumor"}`` for two
            classes, the folder names for more.
        multiclass : bool
            More than two classes.
        negative : str or None
            As given.
        kind : {"dicom", "images"}
            Which loader read the folder.

    Raises
    ------
    ValueError
        If the folder is missing, holds no images, or ``negative`` is not one
        of several classes (the message starts with ``negative:``).

    Examples
    --------
    >>> import tempfile
    >>> from skbrain.datasets._medical import _write_demo_series
    >>> folder = tempfile.mkdtemp()
    >>> _write_demo_series(folder, patients=["P1", "P2"], n_slices=2)
    >>> data = load_images(folder)
    >>> data.kind, data.relpaths[0], sorted(set(data.groups.tolist()))
    ('dicom', 'no/P1/IM0000', ['patient:P1', 'patient:P2'])
    >>> describe_images(data)
    '4 images (2 tumor, 2 no tumor) from 2 patients (DICOM)'
    >>> import shutil; shutil.rmtree(folder)
    """
    path = Path(folder)
    if not path.exists():
        raise ValueError(f"folder '{path}' does not exist")
    if not path.is_dir():
        raise ValueError(f"'{path}' is not a folder")
    # --negative joins the classes of a folder that has that class; a two-class
    # folder without it (yes/ and no/) is already tumor / no tumor.
    joined = negative if negative and (path / negative).is_dir() else None
    if holds_dicom(path):
        bunch, kind = load_dicom(path), "dicom"
        if joined is not None:
            bunch.original_target = bunch.target
            bunch.original_target_names = bunch.target_names
            bunch.target, names = binarize_classes(bunch.target, bunch.target_names, joined)
            bunch.target_names = np.array(names, dtype=str)
    else:
        bunch, kind = load_brain_mri(path, negative=joined), "images"
    names = [str(n) for n in bunch.target_names]
    if negative and joined is None and len(names) > 2:
        raise ValueError(f"negative: {negative!r} is not a class folder of '{path}'; its "
                         f"classes are {', '.join(names)}")
    if len(bunch.data) == 0:
        raise ValueError("no images found")
    base = os.path.abspath(path)
    bunch.update(
        root=path.resolve(), kind=kind, negative=negative,
        multiclass=len(np.unique(bunch.target)) > 2,
        relpaths=[Path(os.path.relpath(os.path.abspath(p), base)).as_posix()
                  for p in bunch.data])
    bunch.class_names = (dict(enumerate(names)) if bunch.multiclass
                         else dict(BINARY_CLASS_NAMES))
    return bunch


def describe_images(data, index=None):
    """A one-line summary of (some of) the images :func:`load_images` returned.

    Parameters
    ----------
    data : Bunch
        From :func:`load_images` (or any Bunch with ``target`` and
        ``target_names``).
    index : array-like of int, default=None
        Only these images.

    Returns
    -------
    str
        The count per class (:func:`describe_labels`), and for DICOM the
        number of patients.
    """
    index = np.arange(len(data.target)) if index is None else np.asarray(index)
    text = describe_labels(np.asarray(data.target)[index],
                           [str(n) for n in data.get("target_names", [])] or None)
    if data.get("kind") == "dicom":
        text += f" from {len(np.unique(np.asarray(data.groups)[index]))} patients (DICOM)"
    return text
