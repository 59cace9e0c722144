"""Loading a folder of brain MRI images with one sub-folder per class."""

import os
import warnings
from importlib import resources
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._imageio import is_image_file
from ..exceptions import SkippedFilesWarning
from ._duplicates import DEFAULT_THRESHOLD, _group, _hash_images

__all__ = ["binarize_classes", "describe_labels", "get_data_home", "load_brain_mri"]

ENV_VAR = "SKBRAIN_DATA"
_POSITIVE_NAMES = ("yes", "tumor", "tumour")
# Decoding threads: PIL releases the GIL, and more than a few threads only
# contend for the disk.
_LOAD_THREADS = min(4, os.cpu_count() or 1)


def get_data_home(data_home=None):
    """Return the folder that holds (or will hold) the brain MRI images.

    The folder is the one with the class sub-folders ``yes/`` and ``no/`` in
    it, not a parent of it. It is chosen in this order:

    1. ``data_home``, when given;
    2. the environment variable ``SKBRAIN_DATA``, when set and not empty
       (point it at an existing copy of the images);
    3. ``~/skbrain_data/brain_mri``.

    Nothing is created or checked: :func:`fetch_brain_mri` creates the
    folder when it downloads, :func:`load_brain_mri` only reads.

    Parameters
    ----------
    data_home : str or os.PathLike, default=None
        A folder to use instead of the default. ``~`` is expanded.

    Returns
    -------
    pathlib.Path
        The folder, with ``~`` expanded.

    Examples
    --------
    >>> from skbrain.datasets import get_data_home
    >>> get_data_home("/data/mri").as_posix()
    '/data/mri'
    """
    if data_home is None:
        data_home = os.environ.get(ENV_VAR) or os.path.join("~", "skbrain_data", "brain_mri")
    return Path(os.fspath(data_home)).expanduser()


def _descr():
    return resources.files(__package__).joinpath("descr", "brain_mri.rst").read_text("utf-8")


def load_brain_mri(path=None, *, return_X_y=False, on_error="raise", negative=None):
    """Load the file paths, labels and duplicate groups of a folder of MRI images.

    The images themselves are not returned: ``data`` holds file paths, which
    :class:`~skbrain.preprocessing.ImageResizer` reads, so a pipeline can
    resize them to whatever size the model needs. Every image is decoded once
    (at reduced scale) to check it and to find copies of the same picture.
    The folder is only read, never written.

    Parameters
    ----------
    path : str or os.PathLike, default=None
        A folder with one sub-folder of images per class, such as the Kaggle
        layout ``yes/`` and ``no/``. ``None`` uses :func:`get_data_home`:
        ``SKBRAIN_DATA`` when set, else ``~/skbrain_data/brain_mri``.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    on_error : {"raise", "skip"}, default="raise"
        What to do with a file that has an image extension but cannot be
        read: raise :class:`~skbrain.exceptions.ImageLoadError` for the first
        one, or leave them all out with one
        :class:`~skbrain.exceptions.SkippedFilesWarning` that lists them.
    negative : str, default=None
        The name of one class folder (such as ``"notumor"``) that turns a
        multi-class folder into the tumor / no-tumor task: that class gets
        label 0 and every other class label 1, and ``target_names`` say which
        classes were joined. ``None`` keeps the classes as they are.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With the fields

        data : ndarray of str, shape (n_samples,)
            Absolute paths of the images, sorted by (label, path inside the
            folder).
        target : ndarray of int64, shape (n_samples,)
            The class of each image.
        target_names : ndarray of str
            The class folder names in label order, ``array(['no', 'yes'])``
            for the Kaggle folder.
        filenames : ndarray of str
            The same paths as ``data``.
        groups : ndarray of int64, shape (n_samples,)
            Copies of the same picture (byte-identical, re-encoded, resized
            or cropped) share a group id; pass it as ``groups`` to
            :class:`~sklearn.model_selection.StratifiedGroupKFold` so copies
            never end up on both sides of a split. See
            :func:`find_duplicate_groups`.
        DESCR : str
            Where the Kaggle images come from, their licence situation and
            their known problems.
        original_target, original_target_names : ndarray
            Only with ``negative``: each image's class and the class folder
            names before they were joined (for per-class recall).

    (data, target) : tuple
        If ``return_X_y`` is True.

    Raises
    ------
    ValueError
        If the folder does not exist, has no class sub-folders with images,
        or has images of only one class.
    skbrain.exceptions.ImageLoadError
        With ``on_error="raise"``, for the first file that cannot be read.

    Notes
    -----
    Labels: sub-folders (except hidden ones) that contain at least one image
    file are the classes, in sorted order. With two classes, one named
    ``yes``, ``tumor`` or ``tumour`` (any case) is the positive class, label
    1; otherwise sorted order gives 0 and 1. With more than two classes the
    labels are 0 to k-1 in sorted order. Only the files directly inside a
    class folder whose extension is in
    :data:`~skbrain._imageio.IMAGE_EXTENSIONS` are taken; other files (such as
    ``MANIFEST.csv``) and hidden files are ignored.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> from skbrain.datasets import load_brain_mri, make_synthetic_mri
    >>> synth = make_synthetic_mri(6, image_size=32, random_state=0)
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for i, (img, label) in enumerate(zip(synth.data, synth.target)):
    ...     sub = folder / ("yes" if label else "no")
    ...     sub.mkdir(exist_ok=True)
    ...     Image.fromarray(img).save(sub / f"{i}.png")
    >>> data = load_brain_mri(folder)
    >>> data.target.tolist(), data.target_names.tolist()
    ([0, 0, 0, 1, 1, 1], ['no', 'yes'])
    >>> [pathlib.Path(p).name for p in data.data[:2]], data.groups.dtype
    (['0.png', '3.png'], dtype('int64'))
    >>> import shutil; shutil.rmtree(folder)
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip'; got {on_error!r}")
    folder = get_data_home(path)
    relpaths, labels, target_names = _scan(folder)
    if negative is not None and negative not in target_names:
        raise ValueError(f"negative={negative!r} is not a class folder of {str(folder)!r}; "
                         f"its classes are {target_names}")
    paths = [os.path.abspath(os.path.join(folder, rel)) for rel in relpaths]

    hashes, digests, errors = _hash_images(paths, on_error=on_error, n_jobs=_LOAD_THREADS)
    if errors:
        keep = np.array([i not in errors for i in range(len(paths))])
        listing = "\n  ".join(errors[i] for i in sorted(errors))
        warnings.warn(
            f"skipped {len(errors)} unreadable file(s) in {str(folder)!r}:\n  {listing}",
            SkippedFilesWarning,
            stacklevel=2,
        )
        kept = np.flatnonzero(keep)
        paths = [paths[i] for i in kept]
        labels = labels[kept]
        hashes = hashes[kept]
        digests = [digests[i] for i in kept]
        if len(np.unique(labels)) < 2:
            raise ValueError(
                f"after skipping unreadable files, {str(folder)!r} has readable images of "
                "only one class; need at least two"
            )
    groups = _group(hashes, digests, DEFAULT_THRESHOLD)

    data = np.array(paths, dtype=str)
    extra = {}
    if negative is not None:
        extra = {"original_target": labels,
                 "original_target_names": np.array(target_names, dtype=str)}
        labels, target_names = binarize_classes(labels, target_names, negative)
    if return_X_y:
        return data, labels
    return Bunch(
        data=data,
        target=labels,
        target_names=np.array(target_names, dtype=str),
        filenames=data.copy(),
        groups=groups,
        DESCR=_descr(),
        **extra,
    )


def binarize_classes(target, target_names, negative):
    """Join every class but ``negative`` into one positive class (label 1).

    Parameters
    ----------
    target : array-like of int
        Labels that index ``target_names``.
    target_names : sequence of str
        The class names.
    negative : str
        The class that becomes label 0.

    Returns
    -------
    target : ndarray of int64
        0 for ``negative``, 1 for every other class.
    target_names : list of str
        ``[negative, "tumor (<the joined classes>)"]``.

    Examples
    --------
    >>> y, names = binarize_classes([0, 1, 2, 2], ["glioma", "notumor", "pituitary"], "notumor")
    >>> y.tolist(), names
    ([1, 0, 1, 1], ['notumor', 'tumor (glioma, pituitary)'])
    """
    names = [str(n) for n in target_names]
    if negative not in names:
        raise ValueError(f"negative={negative!r} is not one of the classes {names}")
    target = np.asarray(target)
    binary = (target != names.index(negative)).astype(np.int64)
    joined = ", ".join(n for n in names if n != negative)
    return binary, [negative, f"tumor ({joined})"]


def class_folders(folder, list_files):
    """{class name: files} of ``folder``'s class sub-folders that hold files, in label order.

    ``list_files(sub)`` lists one sub-folder's files. Hidden folders are skipped. The
    names sort alphabetically, except that of two classes one named like a tumor
    (``yes``, ``tumor``, ...) comes last, so that it gets label 1.
    """
    classes = {}
    for sub in sorted(folder.iterdir(), key=lambda p: p.name):
        if sub.is_dir() and not sub.name.startswith("."):
            files = list_files(sub)
            if files:
                classes[sub.name] = files
    names = sorted(classes)
    positive = [n for n in names if n.lower() in _POSITIVE_NAMES]
    if len(names) == 2 and len(positive) == 1:
        names = [n for n in names if n != positive[0]] + positive
    return {name: classes[name] for name in names}


def _scan(folder):
    """List (relpaths, int64 labels, class names) of the class folders in ``folder``."""
    where = str(folder)
    if not folder.exists():
        raise ValueError(
            f"image folder {where!r} does not exist; expected a folder with one sub-folder of "
            f"images per class, such as {where}/yes/ and {where}/no/ (set {ENV_VAR} or call "
            "fetch_brain_mri() to download the Kaggle images)"
        )
    if not folder.is_dir():
        raise ValueError(f"image folder {where!r} is not a folder")
    classes = class_folders(folder, lambda sub: sorted(
        f.name for f in sub.iterdir() if is_image_file(f.name) and f.is_file()))
    if not classes:
        raise ValueError(
            f"no class sub-folders with images in {where!r}; expected a folder with one "
            f"sub-folder of images per class, such as {where}/yes/*.jpg and {where}/no/*.jpg"
        )
    names = list(classes)
    if len(names) < 2:
        raise ValueError(
            f"{where!r} has images of only one class ({names[0]!r}); need at least two "
            "class sub-folders, such as yes/ and no/"
        )
    relpaths, labels = [], []
    for label, name in enumerate(names):
        relpaths += [f"{name}/{f}" for f in classes[name]]
        labels += [label] * len(classes[name])
    return relpaths, np.asarray(labels, dtype=np.int64), names


def describe_labels(y, target_names=None):
    """A one-line count of the images per class.

    Two classes with labels 0 and 1 read as tumor / no tumor (1 is tumor, as
    :func:`load_brain_mri` labels them); other labels are named by
    ``target_names`` (indexed by label) or shown as they are.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels.
    target_names : sequence of str, default=None
        Class names indexed by integer label.

    Returns
    -------
    str

    Examples
    --------
    >>> describe_labels([1, 0, 1])
    '3 images (2 tumor, 1 no tumor)'
    >>> describe_labels([0, 2, 2, 1], ["glioma", "meningioma", "notumor"])
    '4 images (glioma 1, meningioma 1, notumor 2)'
    """
    y = np.asarray(y)
    labels, counts = np.unique(y, return_counts=True)
    known = [] if target_names is None else list(target_names)
    if len(known) <= 2 and set(labels.tolist()) <= {0, 1}:
        return f"{len(y)} images ({int((y == 1).sum())} tumor, {int((y == 0).sum())} no tumor)"
    if known and np.issubdtype(y.dtype, np.integer):
        names = [str(name) for name in known]
        counts = np.bincount(y, minlength=len(names))
    else:
        names, counts = [str(label) for label in labels], counts
    parts = ", ".join(f"{name} {int(n)}" for name, n in zip(names, counts, strict=True))
    return f"{len(y)} images ({parts})"
