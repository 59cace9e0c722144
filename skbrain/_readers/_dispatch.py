"""The dispatcher: :func:`read_image` hands each file to the reader of its format.

A reader is a :class:`Reader` in :data:`READERS`: ``claims(path)`` says
whether a file is its format (by name or by its first bytes, never raising)
and ``read(path, options)`` returns its pixels as a PIL image. Files no
reader claims are decoded by Pillow (:mod:`._raster`); every image then goes
through the same mode rules. :data:`READERS` is read at each call, so a reader
registered later (``READERS["npy"] = Reader(...)``) is used from then on.
"""

import io
import os
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from PIL import Image

from ..exceptions import ImageLoadError
from ._common import _PLANES, WINDOWS, read_file
from ._dicom import _decode_dicom, _has_dicom_preamble, is_dicom_file, read_dicom
from ._nifti import is_nifti_file, read_nifti
from ._raster import (
    _array_to_image,
    _normalize_mode,
    _reason,
    _upright,
    decode_jpeg_scaled,
    decode_raster,
)

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".dcm", ".dicom"}
)
_REFERENCE_KEYS = ("frame", "window", *_PLANES)
_SEP = "::"


class Reader(NamedTuple):
    """One file format behind :func:`read_image`.

    Attributes
    ----------
    claims : callable
        ``claims(path) -> bool``: whether the file ``path`` (a str, without
        any ``::`` reference) is of this format. Cheap, and False rather than
        an error for a file it cannot open.
    read : callable
        ``read(path, options) -> PIL.Image.Image``: the pixels, in any PIL
        mode; ``options`` is the parsed slice reference (``{}`` for a plain
        path). Raises :class:`~skbrain.exceptions.ImageLoadError` naming the
        file for a broken one, and for options the format does not take.
    """

    claims: Callable[[str], bool]
    read: Callable[[str, dict], Image.Image]


#: The formats tried in order before Pillow's; a new format is one entry here.
READERS = {
    "nifti": Reader(is_nifti_file, read_nifti),
    "dicom": Reader(is_dicom_file, read_dicom),
}


def reader_for(path):
    """The :data:`READERS` entry that claims the file ``path`` (no ``::`` part), else None
    (a file for Pillow)."""
    return next((r for r in tuple(READERS.values()) if r.claims(path)), None)


def is_image_file(path):
    """Tell from its name whether ``path`` looks like an image file.

    The check is by name only (the file is not opened): the extension must be
    one of :data:`IMAGE_EXTENSIONS`, in any case, and the name must not start
    with a dot, which leaves out hidden files such as the ``._Y1.jpg``
    resource forks that macOS leaves in copied folders.

    Parameters
    ----------
    path : str or os.PathLike
        A file name or path.

    Returns
    -------
    bool

    Examples
    --------
    >>> from skbrain._readers import is_image_file
    >>> is_image_file("yes/Y100.JPG"), is_image_file("no/1 no.jpeg")
    (True, True)
    >>> is_image_file("MANIFEST.csv"), is_image_file("yes/._Y1.jpg")
    (False, False)
    """
    name = os.path.basename(os.fspath(path))
    if name.startswith("."):
        return False
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def read_image(source, *, mode=None, size_hint=None):
    """Read one image as a PIL image in mode ``"L"`` or ``"RGB"``.

    Parameters
    ----------
    source : str, bytes, os.PathLike, PIL.Image.Image or numpy.ndarray
        An image file, an image already opened with PIL, or an array of shape
        ``(height, width)`` or ``(height, width, channels)`` with 1, 3 or 4
        channels. The source is never modified. Files may also be DICOM
        (recognised by content; needs pydicom) or NIfTI (``.nii``,
        ``.nii.gz``; needs nibabel: the middle axial slice), and a path may be
        a slice reference such as ``"scan.nii.gz::axial=40"`` or
        ``"cine.dcm::frame=3,window=full"`` (see :func:`slice_reference` and
        :func:`dicom_to_uint8` for the intensity windows).
    mode : {None, "L", "RGB"}, default=None
        The mode of the result. ``None`` keeps grayscale images grayscale and
        makes every other image RGB.
    size_hint : int or (int, int), default=None
        The side length (or ``(height, width)``) the caller will resize the
        image to. Large JPEG files are then decoded directly at a reduced
        scale (:meth:`PIL.Image.Image.draft`), which is several times faster;
        the result is still at least ``size_hint`` pixels along each side.
        The returned image is *not* resized to ``size_hint``.

    Returns
    -------
    PIL.Image.Image
        A fully loaded image, independent of any open file.

    Raises
    ------
    ImageLoadError
        If a file is missing, is a directory, is empty, is not an image, is
        truncated or corrupt, or has more pixels than PIL's decompression-bomb
        limit (``PIL.Image.MAX_IMAGE_PIXELS``, left as it is). The one-line
        message names the file.
    ValueError
        If an array has the wrong shape or dtype, or holds NaN or infinity.
    TypeError
        If ``source`` is none of the types above.

    Notes
    -----
    The conversions are chosen for MRI slices, whose background is black:

    - EXIF orientation is applied, so photographed images come out upright.
    - Transparent pixels (RGBA, LA, PA, and palette images with a transparent
      colour) are composited on black.
    - Palette (``P``), CMYK and other colour modes become RGB; bilevel
      (``1``) becomes ``L``.
    - 16-bit and 32-bit integer images (``I;16``, ``I``) and float images
      (``F``) are scaled per image so that their maximum becomes 255 (an
      all-zero image stays black, negative values become 0). Scanner output
      rarely uses the full 16-bit range, so clipping to 0-255 would turn most
      of it white and a fixed division by 65535 would turn it black.
    - Animated GIFs and multi-page TIFFs give their first frame.

    Arrays follow the same rules: ``uint8`` is used as it is, other integer
    dtypes (including ``bool``) are scaled by the image maximum like 16-bit
    files, and float arrays are taken to be in [0, 1] and clipped to it.

    Examples
    --------
    >>> import numpy as np
    >>> from skbrain._readers import read_image
    >>> img = read_image(np.zeros((20, 30), dtype=np.uint8))
    >>> img.mode, img.size
    ('L', (30, 20))
    >>> read_image(np.ones((4, 4, 3)), mode="L").getextrema()
    (255, 255)
    >>> read_image(np.array([[0, 1000], [2000, 4000]], dtype=np.uint16)).getextrema()
    (0, 255)
    """
    return _read_image(source, mode=mode, size_hint=size_hint, name="source")


def _read_image(
    source, *, mode=None, size_hint=None, name="source", gray_if_neutral=False, turbo=False
):
    """Implement :func:`read_image`; ``name`` is how array errors refer to the input.

    With ``gray_if_neutral``, a JPEG stored as colour whose chroma is exactly
    neutral (a grayscale picture saved as RGB, as most MRI files are) comes
    back as "L" rather than "RGB": the same pixel values, a third of the work
    to resize. Only for callers that turn "L" back into RGB themselves.

    With ``turbo`` (and a ``size_hint``), JPEG files are decoded by
    :func:`decode_jpeg_scaled` where it can, and by Pillow otherwise.
    """
    if mode not in (None, "L", "RGB"):
        raise ValueError(f"mode must be None, 'L' or 'RGB'; got {mode!r}")
    if isinstance(source, (str, bytes, os.PathLike)):
        path, options = parse_reference(source)
        reader = reader_for(path)
        if reader is not None:
            return _normalize_mode(reader.read(path, options), mode, os.fsdecode(source))
        label, data = read_file(path)
        if options:
            raise ImageLoadError(
                f"cannot read image {label!r}: a slice reference (::) needs a DICOM or NIfTI file"
            )
        if turbo and size_hint is not None:
            img = decode_jpeg_scaled(
                data, mode=mode, size_hint=size_hint, gray_if_neutral=gray_if_neutral
            )
            if img is not None:
                return img
        return decode_image(
            io.BytesIO(data),
            label,
            mode=mode,
            size_hint=size_hint,
            gray_if_neutral=gray_if_neutral,
        )
    if isinstance(source, Image.Image):
        label = getattr(source, "filename", "") or "PIL image"
        try:
            source.load()
            img = _normalize_mode(_upright(source), mode, label)
        except ImageLoadError:
            raise
        except (OSError, ValueError, SyntaxError) as exc:
            raise ImageLoadError(f"cannot read image {label!r}: {_reason(exc)}") from exc
        return img.copy() if img is source else img
    if isinstance(source, np.ndarray) or hasattr(source, "__array__"):
        return _normalize_mode(_array_to_image(np.asarray(source), name), mode, name)
    raise TypeError(
        f"{name} must be a file path, a PIL image or a numpy array; got {type(source).__name__}"
    )


def decode_image(fp, label, *, mode=None, size_hint=None, gray_if_neutral=False):
    """Decode the image in the binary file object ``fp``; ``label`` names it in errors.

    DICOM data is recognised by its content; everything else is Pillow's. The
    whole image is decoded before this returns, so ``fp`` may be closed
    afterwards.
    """
    if _stream_size(fp) == 0:
        raise ImageLoadError(f"cannot read image {label!r}: file is empty")
    if _has_dicom_preamble(fp):
        return _normalize_mode(_decode_dicom(fp, label), mode, label)
    return decode_raster(
        fp, label, mode=mode, size_hint=size_hint, gray_if_neutral=gray_if_neutral
    )


def _stream_size(fp):
    try:
        return os.fstat(fp.fileno()).st_size
    except (AttributeError, OSError, io.UnsupportedOperation):
        pos = fp.tell()
        size = fp.seek(0, os.SEEK_END)
        fp.seek(pos)
        return size


def slice_reference(path, *, plane=None, index=None, frame=None, window=None):
    """Name one 2-D slice of a NIfTI volume or one frame of a DICOM file, as a string.

    A slice reference is accepted wherever an image path is (``ImageResizer``,
    ``read_image``, the command line), and survives NumPy arrays, CSV files
    and cross-validation indexing because it is a plain string:
    ``"<path>::<key>=<value>[,<key>=<value>]"``.

    Parameters
    ----------
    path : str or os.PathLike
        The NIfTI or DICOM file.
    plane : {"axial", "coronal", "sagittal"}, default=None
        The plane of a NIfTI slice, with ``index`` counted in the volume
        reoriented to RAS+ (axial from inferior to superior, coronal from
        posterior to anterior, sagittal from left to right).
    index : int, default=None
        The slice number along ``plane``.
    frame : int, default=None
        The frame (from 0) of a multi-frame DICOM file.
    window : {"file", "percentile", "full"}, default=None
        The intensity window; None means ``"file"``. See :func:`read_image`.

    Returns
    -------
    str

    Examples
    --------
    >>> from skbrain._readers import parse_reference, slice_reference
    >>> ref = slice_reference("sub-01.nii.gz", plane="axial", index=40, window="full")
    >>> ref
    'sub-01.nii.gz::axial=40,window=full'
    >>> parse_reference(ref)
    ('sub-01.nii.gz', {'axial': 40, 'window': 'full'})
    """
    parts = []
    if plane is not None or index is not None:
        if plane not in _PLANES or index is None:
            raise ValueError(
                f"plane must be one of {_PLANES} together with an index; "
                f"got plane={plane!r}, index={index!r}"
            )
        parts.append(f"{plane}={int(index)}")
    if frame is not None:
        parts.append(f"frame={int(frame)}")
    if window is not None and window != "file":
        if window not in WINDOWS:
            raise ValueError(f"window must be one of {WINDOWS}; got {window!r}")
        parts.append(f"window={window}")
    path = os.fsdecode(os.fspath(path))
    return f"{path}{_SEP}{','.join(parts)}" if parts else path


def parse_reference(source):
    """Split a slice reference into ``(path, options)``; a plain path gives ``{}``.

    A name that exists as a file is always a plain path, even with ``::`` in it.
    """
    text = os.fsdecode(os.fspath(source))
    head, sep, tail = text.rpartition(_SEP)
    if not sep or not head or os.path.exists(text):
        return text, {}
    options = {}
    for item in tail.split(","):
        key, _, value = item.partition("=")
        key = key.strip().lower()
        if key not in _REFERENCE_KEYS:
            raise ImageLoadError(
                f"cannot read image {text!r}: unknown slice reference {item!r}; expected "
                "<file>::axial=N, coronal=N, sagittal=N, frame=N and/or "
                "window=file|percentile|full"
            )
        if key == "window":
            if value not in WINDOWS:
                raise ImageLoadError(
                    f"cannot read image {text!r}: window must be one of {WINDOWS}; got {value!r}"
                )
            options[key] = value
        else:
            try:
                options[key] = int(value)
            except ValueError:
                raise ImageLoadError(
                    f"cannot read image {text!r}: {key}= needs a whole number; got {value!r}"
                ) from None
            if options[key] < 0:
                raise ImageLoadError(f"cannot read image {text!r}: {key}= must be >= 0")
    if sum(key in options for key in _PLANES) > 1:
        raise ImageLoadError(f"cannot read image {text!r}: name one plane only")
    return head, options
