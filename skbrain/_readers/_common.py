"""What several readers use: file bytes, intensity windows, uint8 scaling, optional packages."""

import importlib
import os

import numpy as np

from ..exceptions import ImageLoadError

#: The intensity windows a DICOM or NIfTI slice can be read with.
WINDOWS = ("file", "percentile", "full")
_PLANES = ("axial", "coronal", "sagittal")
# The percentile window: robust to a few hot voxels, unlike the full range.
_PERCENTILES = (0.5, 99.5)
_INSTALL = "pip install 'skbrain[medical]'"


def _require(module, what):
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f"reading {what} files needs the {module} package: {_INSTALL} "
            f"(or pip install {module})"
        ) from None


def _first_line(exc):
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _scale_to_uint8(values):
    """Scale an integer or float array so its maximum becomes 255."""
    values = np.nan_to_num(values.astype(np.float64, copy=False), nan=0.0, posinf=0.0, neginf=0.0)
    top = values.max(initial=0.0)
    if top <= 0:
        return np.zeros(values.shape, dtype=np.uint8)
    out = np.clip(values * (255.0 / top), 0, 255)
    return np.rint(out).astype(np.uint8)


def _window_bounds(values, window):
    sample = values
    if values.size > 2_000_000:
        # A strided sample: the percentiles of a large volume to 1/8 of the work.
        sample = values[tuple(slice(None, None, 2) for _ in range(values.ndim))]
    sample = sample[np.isfinite(sample)]
    if sample.size == 0:
        return 0.0, 0.0
    if window == "full":
        return float(sample.min()), float(sample.max())
    lo, hi = np.percentile(sample, _PERCENTILES)
    return float(lo), float(hi)


def read_file(path):
    """Return ``(label, bytes)`` of an image file, or raise ImageLoadError naming it.

    ``label`` is the path as a string, for messages. Used by :func:`read_image`
    and by the dataset loaders, which hash the bytes they decode.
    """
    label = os.fsdecode(os.fspath(path))
    if os.path.isdir(label):
        raise ImageLoadError(
            f"cannot read image {label!r}: is a directory, expected an image file"
        )
    try:
        with open(label, "rb") as fp:
            return label, fp.read()
    except FileNotFoundError:
        raise ImageLoadError(
            f"cannot read image {label!r}: no such file, expected an image file"
        ) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ImageLoadError(f"cannot read image {label!r}: {reason.lower()}") from exc
