"""NIfTI volumes through nibabel, read one 2-D slice at a time.

A volume is reoriented to RAS+ and kept decoded in a small cache (keyed by
path, mtime and size), so the slices of one ``.nii.gz`` read one after another
decompress it once. A slice is named by a reference such as
``"scan.nii.gz::axial=40"``; a bare path gives the middle axial slice.
"""

import collections
import os
import threading

import numpy as np
from PIL import Image

from ..exceptions import ImageLoadError
from ._common import _PLANES, _first_line, _require, _window_bounds

_NIFTI_CACHE = collections.OrderedDict()
_NIFTI_LOCK = threading.Lock()
# Volumes kept decoded: slices of one volume are read one after another, and a
# .nii.gz must not be decompressed again for each of them.
_NIFTI_CACHE_SIZE = 2


def is_nifti_file(path):
    """Tell from its name whether ``path`` is a NIfTI volume (``.nii`` or ``.nii.gz``).

    Examples
    --------
    >>> from skbrain._readers import is_nifti_file
    >>> is_nifti_file("sub-01_T1w.nii.gz"), is_nifti_file("scan.NII"), is_nifti_file("a.gz")
    (True, True, False)
    """
    name = os.path.basename(os.fsdecode(os.fspath(path))).lower()
    return not name.startswith(".") and name.endswith((".nii", ".nii.gz"))


def read_nifti(path, options):
    """Read the slice of the NIfTI volume ``path`` that a slice reference's ``options`` name."""
    if "frame" in options:
        raise ImageLoadError(f"cannot read image {path!r}: frame= is for DICOM files")
    return _nifti_slice(path, options)


class _Volume:
    """A NIfTI volume reoriented to RAS+, as float32, with its intensity windows."""

    def __init__(self, data, windows):
        self.data = data
        self.windows = windows

    @property
    def shape(self):
        return self.data.shape

    def slice(self, plane, index, label):
        """Slice ``index`` of ``plane`` as a (rows, columns) array, as DICOM viewers show it.

        Axial and coronal slices have the patient's right on the image's left
        (radiological convention); axial slices have anterior at the top,
        coronal and sagittal superior at the top, sagittal anterior on the left.
        """
        n = self.n_slices(plane)
        if not 0 <= index < n:
            raise ImageLoadError(
                f"cannot read image {label!r}: {plane} slice {index} is out of range; "
                f"the volume has {n} {plane} slices (0 to {n - 1})"
            )
        d = self.data
        if plane == "axial":
            return d[::-1, ::-1, index].T
        if plane == "coronal":
            return d[::-1, index, ::-1].T
        return d[index, ::-1, ::-1].T

    def n_slices(self, plane):
        return self.data.shape[{"axial": 2, "coronal": 1, "sagittal": 0}[plane]]

    def to_uint8(self, pixels, window):
        lo, hi = self.windows[window]
        if hi <= lo:
            return np.zeros(pixels.shape, dtype=np.uint8)
        scaled = (pixels - lo) * (255.0 / (hi - lo))
        return np.rint(np.clip(scaled, 0.0, 255.0)).astype(np.uint8)


def nifti_volume(path):
    """The :class:`_Volume` of a NIfTI file, from a small cache keyed by path and mtime."""
    label = os.fsdecode(os.fspath(path))
    try:
        stat = os.stat(label)
    except FileNotFoundError:
        raise ImageLoadError(
            f"cannot read image {label!r}: no such file, expected a NIfTI volume"
        ) from None
    key = (os.path.abspath(label), stat.st_mtime_ns, stat.st_size)
    with _NIFTI_LOCK:
        if key in _NIFTI_CACHE:
            _NIFTI_CACHE.move_to_end(key)
            return _NIFTI_CACHE[key]
        volume = _load_nifti(label)
        _NIFTI_CACHE[key] = volume
        while len(_NIFTI_CACHE) > _NIFTI_CACHE_SIZE:
            _NIFTI_CACHE.popitem(last=False)
        return volume


def nifti_slice_count(path, plane):
    """How many slices of ``plane`` the RAS+ volume has, from the header alone (no decoding)."""
    label = os.fsdecode(os.fspath(path))
    nib, img, shape = _open_nifti(label)
    shape = shape + (1,) * (3 - len(shape))
    axes = nib.orientations.io_orientation(img.affine)[:, 0]
    canonical = [1, 1, 1]
    for i, axis in enumerate(axes[:3]):
        canonical[int(axis) if np.isfinite(axis) else i] = shape[i]
    return canonical[{"sagittal": 0, "coronal": 1, "axial": 2}[plane]]


def _open_nifti(label):
    """(nibabel, image proxy, shape without trailing 1s) of a NIfTI file; the data is not read."""
    nib = _require("nibabel", "NIfTI")
    if not os.path.exists(label):
        raise ImageLoadError(
            f"cannot read image {label!r}: no such file, expected a NIfTI volume"
        )
    if os.path.isdir(label):
        raise ImageLoadError(f"cannot read image {label!r}: is a directory, expected a NIfTI file")
    if os.path.getsize(label) == 0:
        raise ImageLoadError(f"cannot read NIfTI file {label!r}: file is empty")
    try:
        img = nib.load(label)
    except Exception as exc:  # nibabel raises ImageFileError, HeaderDataError, OSError, ...
        raise ImageLoadError(
            f"cannot read NIfTI file {label!r}: broken header or not a NIfTI file "
            f"({_first_line(exc)})"
        ) from exc
    shape = tuple(img.shape)
    while len(shape) > 3 and shape[-1] == 1:
        shape = shape[:-1]
    if len(shape) > 3:
        raise ImageLoadError(
            f"cannot read NIfTI file {label!r}: a {len(shape)}-D volume of shape {shape}; "
            "skbrain reads 3-D volumes. Save the volume you want as its own file first, "
            "e.g. nibabel.save(nibabel.funcs.four_to_three(img)[k], 'vol_k.nii.gz')"
        )
    if len(shape) < 2:
        raise ImageLoadError(f"cannot read NIfTI file {label!r}: shape {shape} is not an image")
    return nib, img, shape


def _load_nifti(label):
    nib, img, _ = _open_nifti(label)
    try:
        if len(img.shape) > 3:
            img = img.slicer[(slice(None),) * 3 + (0,) * (len(img.shape) - 3)]
        if len(img.shape) == 2:
            data = np.asarray(img.dataobj, dtype=np.float32)[:, :, None]
            img = type(img)(data, img.affine, img.header)
        img = nib.as_closest_canonical(img)
        data = np.asarray(img.dataobj, dtype=np.float32)
    except Exception as exc:  # zlib.error, EOFError, OSError, ValueError from the data
        raise ImageLoadError(
            f"cannot read NIfTI file {label!r}: image data is truncated or corrupt "
            f"({_first_line(exc)})"
        ) from exc
    data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)
    windows = {window: _window_bounds(data, window) for window in ("percentile", "full")}
    cal = (float(img.header.get("cal_min", 0)), float(img.header.get("cal_max", 0)))
    windows["file"] = cal if cal[1] > cal[0] else windows["percentile"]
    return _Volume(data, windows)


def _nifti_slice(path, options):
    volume = nifti_volume(path)
    plane = next((p for p in _PLANES if p in options), "axial")
    index = options.get(plane, volume.n_slices(plane) // 2)
    pixels = volume.slice(plane, index, os.fsdecode(path))
    return Image.fromarray(volume.to_uint8(pixels, options.get("window", "file")))
