"""Raster images through Pillow (JPEG, PNG, BMP, GIF, TIFF, WebP), and the mode rules.

:func:`decode_raster` decodes a file's bytes with Pillow (JPEG at a reduced
scale when the caller resizes); :func:`decode_jpeg_scaled` does the same for
JPEG with libjpeg-turbo where it can. :func:`_normalize_mode` holds the rules
every image ends with, whatever its format: EXIF rotation, transparency on
black, palettes, CMYK, 16-bit and float images scaled to 0-255.
"""

import io
import struct

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from ..exceptions import ImageLoadError
from ._common import _scale_to_uint8

try:
    import simplejpeg
except ImportError:  # the optional "turbo" extra; without it Pillow decodes every JPEG
    simplejpeg = None

_HIGH_DEPTH_MODES = {"I", "I;16", "I;16L", "I;16B", "I;16N", "F"}
_ORIENTATION = ExifTags.Base.Orientation
# What PIL raises for a damaged file, while opening it or while decoding it.
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error)


def decode_raster(fp, label, *, mode=None, size_hint=None, gray_if_neutral=False):
    """Decode the image in the binary file object ``fp`` with Pillow; ``label`` names it in errors.

    The whole image is decoded before this returns, so ``fp`` may be closed
    afterwards. The arguments are those of :func:`skbrain._readers.decode_image`.
    """
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
