"""DICOM files through pydicom: recognised by content, decoded, windowed to uint8.

A DICOM file is one slice, or several frames named with ``::frame=N``; its
intensities are mapped to 0-255 with the file's window (or a percentile or
full-range window, see :func:`dicom_to_uint8`).
"""

import io
import os

import numpy as np
from PIL import Image

from ..exceptions import ImageLoadError
from ._common import _PLANES, _first_line, _require, _scale_to_uint8, _window_bounds, read_file

# Which package decodes a compressed transfer syntax that pydicom's own and
# Pillow's decoders cannot (UID prefix -> pip command), for the error message.
_DECODERS = (
    ("1.2.840.10008.1.2.4.5", "pip install pylibjpeg pylibjpeg-libjpeg"),
    ("1.2.840.10008.1.2.4.70", "pip install pylibjpeg pylibjpeg-libjpeg"),
    ("1.2.840.10008.1.2.4.8", "pip install pylibjpeg pylibjpeg-libjpeg"),
    ("1.2.840.10008.1.2.4.9", "pip install pylibjpeg pylibjpeg-openjpeg"),
    ("1.2.840.10008.1.2.4.20", "pip install pylibjpeg pylibjpeg-openjpeg"),
    ("1.2.840.10008.1.2.5", "pip install pylibjpeg pylibjpeg-rle"),
)


def is_dicom_file(path):
    """Tell from its content whether ``path`` is a DICOM file.

    A DICOM file starts with a 128-byte preamble and the four bytes ``DICM``,
    whatever its name: exports from scanners and PACS often have no extension.

    Parameters
    ----------
    path : str or os.PathLike
        A file.

    Returns
    -------
    bool
        False also for a file that cannot be opened.

    Examples
    --------
    >>> from pydicom.data import get_testdata_file
    >>> from skbrain._readers import is_dicom_file
    >>> is_dicom_file(get_testdata_file("MR_small.dcm")), is_dicom_file(__file__)
    (True, False)
    """
    try:
        with open(os.fspath(path), "rb") as fp:
            return _has_dicom_preamble(fp)
    except OSError:
        return False


def _has_dicom_preamble(fp):
    pos = fp.tell()
    head = fp.read(132)
    fp.seek(pos)
    return len(head) == 132 and head[128:] == b"DICM"


def read_dicom(path, options):
    """Read the frame of the DICOM file ``path`` that a slice reference's ``options`` name."""
    label, data = read_file(path)
    if any(key in options for key in _PLANES):
        raise ImageLoadError(
            f"cannot read image {label!r}: axial=/coronal=/sagittal= are for NIfTI volumes; "
            "a DICOM file is one slice (or frames: frame=N)"
        )
    return _decode_dicom(
        io.BytesIO(data), label, frame=options.get("frame"), window=options.get("window")
    )


def _read_dicom_dataset(fp, label, **kwargs):
    pydicom = _require("pydicom", "DICOM")
    try:
        return pydicom.dcmread(fp, **kwargs)
    except Exception as exc:  # pydicom raises many types for a damaged header
        raise ImageLoadError(
            f"cannot read DICOM file {label!r}: file is truncated or corrupt ({_first_line(exc)})"
        ) from exc


def _decode_dicom(fp, label, *, frame=None, window=None):
    ds = _read_dicom_dataset(fp, label)
    frames = dicom_pixels(ds, label)
    if frame is None:
        if len(frames) > 1:
            raise ImageLoadError(
                f"cannot read image {label!r}: a multi-frame DICOM file with {len(frames)} "
                f"frames; name one as '{label}::frame=N' (skbrain.datasets.load_dicom lists them)"
            )
        frame = 0
    if frame >= len(frames):
        raise ImageLoadError(
            f"cannot read image {label!r}: frame={frame} but the file has {len(frames)} frame(s)"
        )
    return Image.fromarray(dicom_to_uint8(ds, frames[frame], window=window or "file"))


def dicom_pixels(ds, label):
    """The decoded pixel data of a pydicom dataset with a leading frame axis.

    Raises ImageLoadError naming ``label`` for a file without pixel data, a
    transfer syntax no installed decoder handles (naming the package that
    would), and truncated pixel data.
    """
    if not any(tag in ds for tag in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        sop = ds.get("SOPClassUID")
        kind = f" (a {sop.name})" if sop is not None and hasattr(sop, "name") else ""
        raise ImageLoadError(
            f"cannot read DICOM file {label!r}: it has no pixel data{kind}; expected an image"
        )
    try:
        arr = ds.pixel_array
    except Exception as exc:  # the decoders raise RuntimeError, ValueError, NotImplementedError
        raise _dicom_decode_error(ds, label, exc) from exc
    n_frames = int(ds.get("NumberOfFrames", 1) or 1)
    if n_frames == 1:
        arr = arr[None]
    return arr


def _dicom_decode_error(ds, label, exc):
    syntax = getattr(ds.get("file_meta"), "TransferSyntaxUID", None)
    if syntax is None or not syntax.is_compressed:
        return ImageLoadError(
            f"cannot read DICOM file {label!r}: pixel data is truncated or corrupt "
            f"({_first_line(exc)})"
        )
    from pydicom.pixels import get_decoder

    name = f"{syntax.name} ({syntax})"
    try:
        decoder = get_decoder(syntax)
    except NotImplementedError:
        return ImageLoadError(
            f"cannot decode DICOM file {label!r}: pydicom has no decoder for its transfer "
            f"syntax {name}; convert the file first (e.g. gdcmconv --raw, or dcmtk's dcmdjpeg)"
        )
    if not decoder.is_available:
        package = next(
            (cmd for prefix, cmd in _DECODERS if str(syntax).startswith(prefix)),
            "pip install python-gdcm",
        )
        return ImageLoadError(
            f"cannot decode DICOM file {label!r}: no installed decoder handles its transfer "
            f"syntax {name}; {package} would"
        )
    reasons = [line.strip() for line in str(exc).splitlines()[1:] if line.strip()]
    return ImageLoadError(
        f"cannot decode DICOM file {label!r}: the installed decoders failed on its {name} "
        f"pixel data, which may be corrupt or unusual ({'; '.join(reasons) or _first_line(exc)})"
    )


def dicom_to_uint8(ds, pixels, *, window="file"):
    """Turn one decoded frame into uint8 pixels the way the modality intends.

    Rescale Slope/Intercept (or the Modality LUT) first; then, for grayscale,
    the intensity window: ``"file"`` uses the file's VOI LUT or Window
    Center/Width (pydicom's ``apply_voi_lut``) and falls back to
    ``"percentile"`` when the file has neither; ``"percentile"`` maps the
    0.5th-99.5th percentiles of the frame to 0-255; ``"full"`` maps its
    minimum-maximum. MONOCHROME1 (white is zero) is inverted. Colour frames
    are returned as RGB.
    """
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    if pixels.ndim == 3:
        return pixels if pixels.dtype == np.uint8 else _scale_to_uint8(pixels)
    values = apply_modality_lut(pixels, ds).astype(np.float32, copy=False)
    scaled = None
    linear = _linear_window(ds) if window == "file" and "VOILUTSequence" not in ds else None
    if linear is not None:
        # The LINEAR window of PS3.3 C.11.2.1.2.1 in one float32 pass: pydicom's
        # apply_windowing (float64 masks) takes half the decode time of a slice.
        center, width = linear
        scaled = (values - np.float32(center - 0.5)) / np.float32(width - 1) + np.float32(0.5)
    elif window == "file" and ("VOILUTSequence" in ds or "WindowCenter" in ds):
        # The window's output range, from its two ends, so pydicom's VOI LUT and
        # windowing functions (LINEAR, LINEAR_EXACT, SIGMOID) all map to 0-1.
        with np.errstate(over="ignore"):  # SIGMOID's exp at the two ends
            ends = apply_voi_lut(np.array([-1e300, 1e300]), ds, index=0).astype(np.float64)
        if ends[1] > ends[0]:
            out = apply_voi_lut(values, ds, index=0).astype(np.float64, copy=False)
            scaled = (out - ends[0]) / (ends[1] - ends[0])
    if scaled is None:
        lo, hi = _window_bounds(values, "full" if window == "full" else "percentile")
        scaled = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
    if ds.get("PhotometricInterpretation") == "MONOCHROME1":
        scaled = 1.0 - scaled
    return np.rint(np.clip(scaled, 0.0, 1.0) * 255.0).astype(np.uint8)


def _linear_window(ds):
    """(center, width) of the file's first LINEAR window with width > 1, else None."""
    if "WindowCenter" not in ds or "WindowWidth" not in ds:
        return None
    if str(ds.get("VOILUTFunction", "LINEAR") or "LINEAR").upper() != "LINEAR":
        return None
    try:
        center, width = (
            float(elem.value[0] if elem.VM > 1 else elem.value)
            for elem in (ds["WindowCenter"], ds["WindowWidth"])
        )
    except (TypeError, ValueError, IndexError):
        return None
    return (center, width) if width > 1 else None
