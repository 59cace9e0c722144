"""Reading images: the one place in skbrain that decodes image files.

Everything that turns a file, a PIL image or an array into pixels goes through
:func:`read_image`, so every part of skbrain treats odd files the same way:
EXIF rotation, transparency, palettes, CMYK, 16-bit and float images, and
broken files that must fail with a message naming the file.

One reader per format sits behind it: Pillow for JPEG, PNG, BMP, GIF, TIFF and
WebP; pydicom for DICOM (recognised by content, so files without an extension
work too); nibabel for NIfTI volumes, read one 2-D slice at a time through a
*slice reference* such as ``"scan.nii.gz::axial=40"`` (see
:func:`slice_reference`).
"""

import collections
import importlib
import io
import os
import struct
import threading

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from .exceptions import ImageLoadError

try:
    import simplejpeg
except ImportError:  # the optional "turbo" extra; without it Pillow decodes every JPEG
    simplejpeg = None

__all__ = [
    "IMAGE_EXTENSIONS",
    "WINDOWS",
    "dicom_to_uint8",
    "is_dicom_file",
    "is_image_file",
    "is_nifti_file",
    "parse_reference",
    "read_image",
    "slice_reference",
]

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".dcm", ".dicom"}
)

_HIGH_DEPTH_MODES = {"I", "I;16", "I;16L", "I;16B", "I;16N", "F"}
_ORIENTATION = ExifTags.Base.Orientation
# What PIL raises for a damaged file, while opening it or while decoding it.
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error)


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
    >>> from skbrain._imageio import is_image_file
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
    >>> from skbrain._imageio import read_image
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
        if options or is_nifti_file(path):
            return _normalize_mode(_read_medical(path, options), mode, os.fsdecode(source))
        label, data = read_file(source)
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


def decode_image(fp, label, *, mode=None, size_hint=None, gray_if_neutral=False):
    """Decode the image in the binary file object ``fp``; ``label`` names it in errors.

    The whole image is decoded before this returns, so ``fp`` may be closed
    afterwards.
    """
    if _stream_size(fp) == 0:
        raise ImageLoadError(f"cannot read image {label!r}: file is empty")
    if _has_dicom_preamble(fp):
        return _normalize_mode(_decode_dicom(fp, label), mode, label)
    try:
        img = Image.open(fp)
    except Image.DecompressionBombError as exc:
        raise _bomb_error(label, exc) from exc
    except UnidentifiedImageError as exc:
        raise ImageLoadError(
            f"cannot read image {label!r}: not an image file, expected JPEG, PNG, BMP, "
            "GIF, TIFF or WebP data"
        ) from exc
    except _DECODE_ERRORS as exc:
        # A file cut inside its header fails while PIL still identifies it.
        raise ImageLoadError(f"cannot read image {label!r}: {_reason(exc)}") from exc
    try:
        if size_hint is not None and img.format == "JPEG":
            height, width = _pair(size_hint)
            if mode == "L":
                draft_mode = "L"
            elif gray_if_neutral and mode is None and img.mode == "RGB":
                # Skip libjpeg's colour conversion; checked for neutral chroma below.
                draft_mode = "YCbCr"
            else:
                draft_mode = img.mode
            img.draft(draft_mode, (width, height))
        img.load()
        if img.mode == "YCbCr" and gray_if_neutral:
            _, cb, cr = img.getextrema()
            img = img.getchannel(0) if cb == cr == (128, 128) else img.convert("RGB")
        out = _normalize_mode(_upright(img), mode, label)
    except ImageLoadError:
        raise
    except Image.DecompressionBombError as exc:
        raise _bomb_error(label, exc) from exc
    except _DECODE_ERRORS as exc:
        raise ImageLoadError(f"cannot read image {label!r}: {_reason(exc)}") from exc
    if out is img and getattr(img, "fp", None) is not None:
        # Multi-frame formats keep a handle on fp to seek frames; detach from it.
        out = img.copy()
    return out


def turbo_available():
    """Whether :func:`decode_jpeg_scaled` can decode (the ``simplejpeg`` package is installed)."""
    return simplejpeg is not None


def decode_jpeg_scaled(data, *, mode=None, size_hint, gray_if_neutral=False):
    """Decode JPEG bytes with libjpeg-turbo (``simplejpeg``), reduced to cover ``size_hint``.

    The image is decoded at the smallest of the scales 1, 1/2, 1/4 and 1/8
    whose result still has at least ``size_hint`` pixels along each side (the
    scales Pillow's :meth:`~PIL.Image.Image.draft` chooses), so one resize
    follows. libjpeg-turbo also offers M/8 scales in between, but on x86 their
    IDCTs have no SIMD code: on the real images they decoded no faster than
    the next power of two and moved the resized result further from a full
    decode (see ``benchmarks/README.md``). Returns ``None`` wherever Pillow
    must decide, so behaviour and error messages stay Pillow's: ``simplejpeg``
    not installed, not JPEG data (decided by content, not by the file name),
    CMYK or another colour space, an EXIF rotation, more pixels than PIL's
    limit, or any decoder warning or error (a damaged file).

    Parameters
    ----------
    data : bytes
        The file's content.
    mode : {None, "L"}, default=None
        ``"L"`` decodes only the luma; ``None`` keeps grayscale files
        grayscale and gives RGB for colour files.
    size_hint : int or (int, int)
        The side length (or ``(height, width)``) the caller resizes to.
    gray_if_neutral : bool, default=False
        Return colour files whose three channels are equal as "L".

    Returns
    -------
    PIL.Image.Image or None
    """
    if simplejpeg is None or mode not in (None, "L") or not data.startswith(b"\xff\xd8"):
        return None
    try:
        full_h, full_w, colorspace, _ = simplejpeg.decode_jpeg_header(data)
        if colorspace not in ("Gray", "YCbCr") or full_h * full_w > (Image.MAX_IMAGE_PIXELS or 0):
            return None
        if _has_exif(data) and Image.open(io.BytesIO(data)).getexif().get(_ORIENTATION, 1) != 1:
            return None
        height, width = _pair(size_hint)
        scale = max((s for s in (8, 4, 2, 1) if s <= min(full_w // width, full_h // height)),
                    default=1)
        gray = mode == "L" or colorspace == "Gray"
        pixels = simplejpeg.decode_jpeg(
            data,
            "GRAY" if gray else "RGB",
            min_height=-(-full_h // scale),
            min_width=-(-full_w // scale),
        )
    except Exception:
        # Pillow decodes it again and raises (or warns) in its own words.
        return None
    if gray:
        return Image.fromarray(pixels[..., 0])
    if gray_if_neutral and _channels_equal(pixels):
        return Image.fromarray(np.ascontiguousarray(pixels[..., 0]))
    return Image.fromarray(pixels)


def _has_exif(data):
    """Whether an APP1 Exif segment comes before the JPEG frame header (unsure: True)."""
    pos, end = 2, min(len(data), 1 << 20)
    while pos + 10 <= end:
        if data[pos] != 0xFF:
            return True
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) or marker == 0xDA:
            return False
        if marker == 0xE1 and data[pos + 4 : pos + 10] == b"Exif\x00\x00":
            return True
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return True


def _channels_equal(pixels):
    red = pixels[..., 0]
    return np.array_equal(red, pixels[..., 1]) and np.array_equal(red, pixels[..., 2])


def _bomb_error(label, exc):
    return ImageLoadError(
        f"cannot read image {label!r}: too many pixels for PIL's decompression-bomb "
        f"limit of {Image.MAX_IMAGE_PIXELS} ({exc})"
    )


def _stream_size(fp):
    try:
        return os.fstat(fp.fileno()).st_size
    except (AttributeError, OSError, io.UnsupportedOperation):
        pos = fp.tell()
        size = fp.seek(0, os.SEEK_END)
        fp.seek(pos)
        return size


def _reason(exc):
    text = str(exc).strip().splitlines()
    text = text[0] if text else type(exc).__name__
    low = text.lower()
    if "truncated" in low or isinstance(exc, EOFError):
        return f"file is truncated or corrupt ({text})"
    return f"file is corrupt or not a supported image ({text})"


def _pair(size):
    if isinstance(size, (tuple, list)):
        return int(size[0]), int(size[1])
    return int(size), int(size)


def _upright(img):
    try:
        orientation = img.getexif().get(_ORIENTATION, 1)
    except Exception:
        # A broken EXIF block must not cost the pixels, which decoded fine.
        return img
    if orientation in (2, 3, 4, 5, 6, 7, 8):
        return ImageOps.exif_transpose(img)
    return img


def _on_black(img, color_mode):
    """Composite ``img`` (with an alpha band) on black, as mode ``color_mode``."""
    alpha = img.getchannel("A")
    base = Image.new(color_mode, img.size, 0)
    base.paste(img.convert(color_mode), mask=alpha)
    return base


def _has_transparency(img):
    if hasattr(img, "has_transparency_data"):
        return img.has_transparency_data
    return "transparency" in img.info  # pragma: no cover - Pillow < 10.1


def _normalize_mode(img, mode, label):
    """Return ``img`` as "L" or "RGB" (or ``mode``), following :func:`read_image`'s rules."""
    m = img.mode
    if m in ("L", "RGB"):
        pass
    elif m == "1":
        img = img.convert("L")
    elif m == "RGBA":
        img = _on_black(img, "RGB")
    elif m == "LA":
        img = _on_black(img, "L")
    elif m in ("P", "PA"):
        if m == "PA" or _has_transparency(img):
            img = _on_black(img.convert("RGBA"), "RGB")
        else:
            img = img.convert("RGB")
    elif m in ("La",):
        img = img.convert("L")
    elif m in _HIGH_DEPTH_MODES:
        img = Image.fromarray(_scale_to_uint8(np.asarray(img)))
    else:
        try:
            img = img.convert("RGB")
        except ValueError as exc:
            raise ImageLoadError(
                f"cannot read image {label!r}: cannot convert mode {m!r} to RGB"
            ) from exc
    if mode is not None and img.mode != mode:
        img = img.convert(mode)
    return img


def _scale_to_uint8(values):
    """Scale an integer or float array so its maximum becomes 255."""
    values = np.nan_to_num(values.astype(np.float64, copy=False), nan=0.0, posinf=0.0, neginf=0.0)
    top = values.max(initial=0.0)
    if top <= 0:
        return np.zeros(values.shape, dtype=np.uint8)
    out = np.clip(values * (255.0 / top), 0, 255)
    return np.rint(out).astype(np.uint8)


def _array_to_image(arr, name):
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold numbers; got an array of dtype {arr.dtype}")
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (3, 4)):
        hint = ""
        if arr.ndim == 3 and arr.shape[0] in (1, 3, 4):
            hint = "; for a channels-first image use np.moveaxis(image, 0, -1)"
        raise ValueError(
            f"{name} must be an image of shape (height, width) or (height, width, channels) "
            f"with 1, 3 or 4 channels; got shape {arr.shape}{hint}"
        )
    if arr.size == 0:
        raise ValueError(f"{name} is an empty image of shape {arr.shape}")
    if arr.dtype == np.uint8:
        pixels = arr
    elif arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or infinity")
        pixels = np.rint(np.clip(arr, 0.0, 1.0) * 255.0).astype(np.uint8)
    else:
        pixels = _scale_to_uint8(arr)
    pixels = np.ascontiguousarray(pixels)
    if pixels.ndim == 2:
        return Image.fromarray(pixels)
    if pixels.shape[-1] == 3:
        return Image.fromarray(pixels)
    return _on_black(Image.fromarray(pixels), "RGB")


# ------------------------------------------------------------------ DICOM and NIfTI

#: The intensity windows a DICOM or NIfTI slice can be read with.
WINDOWS = ("file", "percentile", "full")
_PLANES = ("axial", "coronal", "sagittal")
_REFERENCE_KEYS = ("frame", "window", *_PLANES)
_SEP = "::"
# The percentile window: robust to a few hot voxels, unlike the full range.
_PERCENTILES = (0.5, 99.5)
_INSTALL = "pip install 'skbrain[medical]'"
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
_NIFTI_CACHE = collections.OrderedDict()
_NIFTI_LOCK = threading.Lock()
# Volumes kept decoded: slices of one volume are read one after another, and a
# .nii.gz must not be decompressed again for each of them.
_NIFTI_CACHE_SIZE = 2


def _require(module, what):
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f"reading {what} files needs the {module} package: {_INSTALL} "
            f"(or pip install {module})"
        ) from None


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
    >>> from skbrain._imageio import is_dicom_file
    >>> is_dicom_file(get_testdata_file("MR_small.dcm")), is_dicom_file(__file__)
    (True, False)
    """
    try:
        with open(os.fspath(path), "rb") as fp:
            return _has_dicom_preamble(fp)
    except OSError:
        return False


def is_nifti_file(path):
    """Tell from its name whether ``path`` is a NIfTI volume (``.nii`` or ``.nii.gz``).

    Examples
    --------
    >>> from skbrain._imageio import is_nifti_file
    >>> is_nifti_file("sub-01_T1w.nii.gz"), is_nifti_file("scan.NII"), is_nifti_file("a.gz")
    (True, True, False)
    """
    name = os.path.basename(os.fsdecode(os.fspath(path))).lower()
    return not name.startswith(".") and name.endswith((".nii", ".nii.gz"))


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
    >>> from skbrain._imageio import parse_reference, slice_reference
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


def _has_dicom_preamble(fp):
    pos = fp.tell()
    head = fp.read(132)
    fp.seek(pos)
    return len(head) == 132 and head[128:] == b"DICM"


def _read_medical(path, options):
    """Read the slice or frame that a reference (or a bare NIfTI path) names, as "L"/"RGB"."""
    if is_nifti_file(path):
        if "frame" in options:
            raise ImageLoadError(f"cannot read image {path!r}: frame= is for DICOM files")
        return _nifti_slice(path, options)
    label, data = read_file(path)
    fp = io.BytesIO(data)
    if not _has_dicom_preamble(fp):
        raise ImageLoadError(
            f"cannot read image {label!r}: a slice reference (::) needs a DICOM or NIfTI file"
        )
    if any(key in options for key in _PLANES):
        raise ImageLoadError(
            f"cannot read image {label!r}: axial=/coronal=/sagittal= are for NIfTI volumes; "
            "a DICOM file is one slice (or frames: frame=N)"
        )
    return _decode_dicom(fp, label, frame=options.get("frame"), window=options.get("window"))


# ---------------------------------------------------------------------- DICOM


def _read_dicom_dataset(fp, label, **kwargs):
    pydicom = _require("pydicom", "DICOM")
    try:
        return pydicom.dcmread(fp, **kwargs)
    except Exception as exc:  # pydicom raises many types for a damaged header
        raise ImageLoadError(
            f"cannot read DICOM file {label!r}: file is truncated or corrupt ({_first_line(exc)})"
        ) from exc


def _first_line(exc):
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


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


# ---------------------------------------------------------------------- NIfTI


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
