"""Reading images: the one place in skbrain that decodes image files.

Everything that turns a file, a PIL image or an array into pixels goes through
:func:`read_image`, so every part of skbrain treats odd files the same way:
EXIF rotation, transparency, palettes, CMYK, 16-bit and float images, and
broken files that must fail with a message naming the file.
"""

import io
import os
import struct

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from .exceptions import ImageLoadError

try:
    import simplejpeg
except ImportError:  # the optional "turbo" extra; without it Pillow decodes every JPEG
    simplejpeg = None

__all__ = ["IMAGE_EXTENSIONS", "is_image_file", "read_image"]

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})

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
        channels. The source is never modified.
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
