"""Turning image files, PIL images and arrays into fixed-size arrays for the estimators."""

import numbers
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image
from sklearn.base import BaseEstimator, TransformerMixin

from . import _cache
from ._cache import clear_image_cache
from ._imageio import _read_image, turbo_available
from ._params import fill_new_params

__all__ = ["ImageResizer", "clear_image_cache"]

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
# Channel averages of the ImageNet statistics, for one-channel images.
_IMAGENET_GRAY = ((0.449,), (0.226,))
_DTYPES = {np.dtype(np.float32): "float32", np.dtype(np.uint8): "uint8"}


class ImageResizer(TransformerMixin, BaseEstimator):
    """Read images and resize them to one shape, as an array for the estimators.

    A stateless transformer: :meth:`fit` learns nothing, so it can be used
    on its own (``ImageResizer(150).transform(paths)``) or as the first step
    of a :class:`~sklearn.pipeline.Pipeline` in front of a skbrain
    classifier, where cross-validation then works on file paths.

    Every image goes through the same reader, which applies EXIF rotation,
    puts transparent pixels on black and scales 16-bit images by their
    maximum (see :func:`skbrain._imageio.read_image`). By default each image
    is then cropped to the head and standardised by its own percentiles, so
    that images from different scanners look alike (see Notes).

    Parameters
    ----------
    size : int or (int, int), default=150
        Side length of the square output, or its ``(height, width)``.
    channels : {1, 3}, default=3
        3 gives RGB (grayscale images are repeated over the channels), 1
        gives grayscale (colour images are converted with the ITU-R 601-2
        luma weights).
    keep_aspect : bool, default=False
        If False, each image is stretched to ``size``. If True, the image is
        scaled so that it fits inside ``size`` and the rest is padded with
        black, keeping the picture centred.
    normalize : None, "imagenet" or (mean, std), default=None
        Per-channel standardisation ``(x - mean) / std`` after scaling to
        [0, 1]. ``"imagenet"`` uses the ImageNet statistics (for pretrained
        networks); with one channel it uses their averages, 0.449 and 0.226.
        ``mean`` and ``std`` may be numbers or one value per channel. Only
        with ``dtype="float32"``.
    dtype : {"float32", "uint8"}, default="float32"
        ``"float32"`` gives values in [0, 1] (before ``normalize``).
        ``"uint8"`` gives the raw 0-255 pixels at a quarter of the memory;
        skbrain's classifiers accept them and scale by 1/255 themselves.
    n_jobs : int, default=None
        Number of threads that read images. PIL releases the GIL while it
        decodes and resizes, so threads speed up reading. ``None`` means 1,
        ``-1`` all processors.
    decoder : {"auto", "pillow"}, default="auto"
        ``"auto"`` decodes JPEG files with libjpeg-turbo through
        ``simplejpeg`` when it is installed (``pip install skbrain[turbo]``)
        and with Pillow otherwise, silently; ``"pillow"`` always uses
        Pillow. Both decode at the same reduced scale, so their results
        agree to one grey level (colour files only: the two round
        YCbCr to RGB differently; see Notes).
    standardize : {"percentile", "zscore", None}, default="percentile"
        Per-image intensity standardisation, after resizing, for images
        from scanners with different brightness and contrast.
        ``"percentile"`` maps the image's 1st and 99th percentiles to 0 and 1
        (0 and 255 in uint8) and clips beyond. ``"zscore"`` subtracts the
        mean of the head's pixels (those brighter than
        ``foreground_threshold``, averaged over channels) and divides by
        their standard deviation, every pixel alike (so the background
        becomes negative); it needs ``dtype="float32"`` and no
        ``normalize``. ``None`` keeps the pixels as decoded. An image without
        spread is left as it is (all zero for ``"percentile"``). See Notes
        for why ``"percentile"`` is the default.
    crop_foreground : bool, default=True
        Crop each image to the box around its pixels brighter than
        ``foreground_threshold`` (the head), widened by ``crop_margin``,
        before resizing. An image with no such pixel is kept whole. Files
        are then decoded at full scale, since the crop keeps only part of
        the picture.
    foreground_threshold : float, default=10
        The grey level (0-255) above which a pixel counts as head, for
        ``crop_foreground`` and ``standardize="zscore"``.
    crop_margin : float, default=0.05
        Added on each side of the head's box, as a fraction of its width
        and height.
    mirror_difference : bool, default=False
        Replace the third channel by the absolute difference between the
        image and its left-right mirror image, after cropping and
        standardisation: a lesion on one side of the head shows there, while
        the symmetric anatomy of a healthy head (orbits, cerebellum, skull
        base) cancels. Needs ``channels=3``; the first two channels stay the
        image. See Notes for what it is worth.
    cache_dir : str or os.PathLike, default=None
        A folder (``~`` is expanded) for an on-disk cache of the resized
        uint8 images. The first ``transform`` of a list of files decodes
        them and stores the pixels;
        later ones (the same files in any other run, or a subset of them,
        as cross-validation asks) read them back without decoding. With
        ``dtype="uint8"`` (and no ``standardize="zscore"``) the result is a
        memory-mapped array, which the classifiers read batch by batch: the
        way to train and predict on collections larger than memory. Entries
        are keyed by each file's content and by every setting that changes
        the pixels, so an edited file or a changed setting is decoded again.
        Only used for file paths; must not be inside the images' folders.
        Delete it with :func:`clear_image_cache` (or by removing the
        folder).

    See Also
    --------
    skbrain.datasets.load_brain_mri : The file paths and labels of a folder of images.
    clear_image_cache : Delete the cache that ``cache_dir`` holds.

    Notes
    -----
    Images are resized with PIL's bilinear filter, which averages over the
    whole footprint of each output pixel when shrinking (no aliasing), with
    a fast integer reduction first for images much larger than the target
    (``reducing_gap=2``), as torchvision's ``Resize`` does. Grayscale
    pictures stored as colour JPEGs (most MRI files) are resized as one
    channel and copied to the three: the same values for a third of the work.

    Head cropping and percentile standardisation are the defaults (since
    2026-12-01) because models then carry over better to other scanners'
    images: fitted on the 253 Kaggle images and tested on 1,791 images of
    another public collection, EfficientNet-Lite0's ROC AUC rises from 0.82
    to 0.87 and the compact net's from 0.53 to 0.78 (three seeds each), while
    cross-validated F1 inside the 253 moves by about -0.01 (inside its
    seed-to-seed spread); ``benchmarks/README.md`` has every figure. They
    cost about twice the reading time (whole-file decoding for the crop).
    ``crop_foreground=False, standardize=None`` gives the plain resize, and
    models saved before the change keep it when loaded.

    ``mirror_difference`` is off by default because leaving a collection
    out (never a test part) says it does not pay everywhere. The compact
    net trained on two of the three collections (balanced,
    ``augment_intensity=0.3``, 96 px) ranks LGG-dev's axial FLAIR slices
    better with it (ROC AUC 0.700 and 0.721 for seeds 0 and 1, against
    0.657 and 0.688), but the four-class collection, which holds coronal and
    sagittal slices and midline pituitary tumors, worse (0.810 and 0.794
    against 0.885 and 0.890); the Kaggle 253 alike (0.887 against 0.890,
    seed 0). Try it for axial slices of whole volumes, and check it by
    leaving a collection out; the head's crop (on by default) centres the
    head, so the mirror axis is close to the midline.
    ``benchmarks/README.md`` has every figure.

    Without ``crop_foreground``, JPEG files at least twice the target size
    are decoded at 1/2, 1/4 or 1/8 scale. On the Kaggle images this moves
    the result about one grey level further (on average) from a Lanczos
    resize of the full image than a full decode would (3.2 against 2.0
    levels), mostly by a sub-pixel shift of sharp edges, and makes reading
    about twice as fast as torchvision's
    ``ImageFolder`` with ``Resize`` and ``ToTensor``.

    With ``decoder="auto"`` and ``simplejpeg`` installed, JPEG files (found
    by their content, not their name; PNGs named ``.jpg`` go to Pillow) are
    decoded by libjpeg-turbo at the same scale, and colour files with three
    equal channels are resized as one. On the 253 Kaggle images this is
    within one grey level of Pillow (mean absolute difference 0.03 of 255)
    and about 20 % faster. Files with an EXIF rotation, CMYK JPEGs and
    damaged files go to Pillow, which applies the rotation or raises.

    ``transform`` accepts:

    - a list, tuple or 1-D array of file paths, PIL images or numpy arrays
      (which may have different sizes);
    - one stacked array of shape ``(n, height, width)``, ``(n, height, width,
      channels)`` or, where the last axis cannot be channels,
      ``(n, channels, height, width)``.

    Arrays follow :func:`~skbrain._imageio.read_image`: ``uint8`` as is,
    floats taken to be in [0, 1], other integers scaled by the image maximum.

    Examples
    --------
    >>> import numpy as np
    >>> from skbrain.preprocessing import ImageResizer
    >>> images = [np.zeros((40, 60), dtype=np.uint8),
    ...           np.full((300, 200, 3), 255, dtype=np.uint8)]
    >>> X = ImageResizer(32).transform(images)
    >>> X.shape, X.dtype
    ((2, 3, 32, 32), dtype('float32'))
    >>> ImageResizer((24, 32), channels=1, dtype="uint8").transform(images).shape
    (2, 1, 24, 32)

    The plain resize, without head cropping and standardisation, keeps the
    pixel values:

    >>> plain = ImageResizer(32, crop_foreground=False, standardize=None)
    >>> X = plain.transform(images)
    >>> float(X[0].max()), float(X[1].min())
    (0.0, 1.0)
    >>> X = plain.set_params(keep_aspect=True).transform(images)
    >>> float(X[1, :, :, 0].max()), float(X[1, :, :, 16].min())
    (0.0, 1.0)
    """

    # Models saved before these two became the defaults (2026-12-01) resized without them.
    _former_defaults = {"standardize": None, "crop_foreground": False}

    def __setstate__(self, state):
        super().__setstate__(state)
        fill_new_params(self)

    def __init__(
        self,
        size=150,
        *,
        channels=3,
        keep_aspect=False,
        normalize=None,
        dtype="float32",
        n_jobs=None,
        decoder="auto",
        standardize="percentile",
        crop_foreground=True,
        foreground_threshold=10,
        crop_margin=0.05,
        mirror_difference=False,
        cache_dir=None,
    ):
        self.size = size
        self.channels = channels
        self.keep_aspect = keep_aspect
        self.normalize = normalize
        self.dtype = dtype
        self.n_jobs = n_jobs
        self.decoder = decoder
        self.standardize = standardize
        self.crop_foreground = crop_foreground
        self.foreground_threshold = foreground_threshold
        self.crop_margin = crop_margin
        self.mirror_difference = mirror_difference
        self.cache_dir = cache_dir

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []
        return tags

    def fit(self, X=None, y=None):
        """Check the parameters; there is nothing to learn.

        Parameters
        ----------
        X : ignored
        y : ignored

        Returns
        -------
        self : ImageResizer
        """
        self._check_params()
        return self

    def transform(self, X):
        """Read and resize the images ``X``.

        Parameters
        ----------
        X : list of (path, PIL image or array), or array of shape (n, H, W[, C])
            The images; see the class notes for the accepted forms.

        Returns
        -------
        ndarray of shape (n_samples, channels, height, width)
            float32 in [0, 1] (or standardised with ``normalize`` or ``standardize``),
            or uint8; a read-only memory map with
            ``cache_dir`` and ``dtype="uint8"``.

        Raises
        ------
        skbrain.exceptions.ImageLoadError
            If a file cannot be read; the message names the file.
        ValueError
            If an array image is malformed; the message gives its index in ``X``.
        """
        p = self._check_params()
        items, names = _as_items(X)
        height, width = p["size"]
        mode = "L" if p["channels"] == 1 else None

        def load_into(out, i, row):
            img = _read_image(
                items[i],
                mode=mode,
                # A crop keeps part of the picture: decode it whole so the part has the pixels.
                size_hint=None if p["crop_foreground"] else (height, width),
                name=names[i],
                gray_if_neutral=p["channels"] == 3,
                turbo=p["decoder"] == "auto",
            )
            if p["crop_foreground"]:
                img = _crop_foreground(img, p["foreground_threshold"], p["crop_margin"])
            _resize_into(img, out[row], p["keep_aspect"])
            if p["standardize"] == "percentile":
                out[row] = _percentile_rescale(out[row])
            if p["mirror_difference"]:
                out[row][2] = _mirror_difference(out[row][0])

        shape = (p["channels"], height, width)
        if self.cache_dir is not None and len(items) and all(_is_path(x) for x in items):
            pixels = self._cached(items, shape, p, load_into)
        else:
            pixels = np.zeros((len(items), *shape), dtype=np.uint8)
            _run_threaded(lambda i: load_into(pixels, i, i), len(items), p["n_jobs"])

        if p["dtype"] == "uint8":
            return pixels
        X_out = np.multiply(pixels, np.float32(1 / 255), dtype=np.float32)
        if p["standardize"] == "zscore":
            for image in X_out:
                _zscore(image, p["foreground_threshold"] / 255)
        if p["mean"] is not None:
            X_out -= p["mean"].reshape(1, -1, 1, 1)
            X_out /= p["std"].reshape(1, -1, 1, 1)
        return X_out

    def geometry(self, X):
        """Where each image's pixels come from and where they go in :meth:`transform`'s output.

        For mapping results at the network's resolution (such as
        :mod:`skbrain.explain`'s heat maps) back onto the images given.

        Parameters
        ----------
        X : list of (path, PIL image or array), or array of shape (n, H, W[, C])
            The images, as :meth:`transform` takes them.

        Returns
        -------
        ndarray of shape (n_samples, 8), int64
            Per image: ``height, width`` of the image as read (full scale,
            after EXIF rotation); ``left, top, right, bottom``, the box of it
            that was resized (the head's box with ``crop_foreground``, else
            the whole image); ``top, left`` of the output window the box was
            resized into, whose height and width are the output's (less
            the padding with ``keep_aspect``) and follow from the box.

        Examples
        --------
        >>> import numpy as np
        >>> image = np.zeros((40, 60), dtype=np.uint8)
        >>> image[10:30, 20:40] = 200
        >>> ImageResizer(32, crop_margin=0).geometry([image]).tolist()
        [[40, 60, 20, 10, 40, 30, 0, 0]]
        """
        p = self._check_params()
        items, names = _as_items(X)
        height, width = p["size"]
        out = np.zeros((len(items), 8), dtype=np.int64)

        def measure(i):
            img = _read_image(items[i], mode="L", name=names[i])
            box = (_foreground_box(img, p["foreground_threshold"], p["crop_margin"])
                   if p["crop_foreground"] else (0, 0, img.width, img.height))
            top, left, _, _ = _fit_window(box[2] - box[0], box[3] - box[1], width, height,
                                          p["keep_aspect"])
            out[i] = (img.height, img.width, *box, top, left)

        _run_threaded(measure, len(items), p["n_jobs"])
        return out

    def _cached(self, paths, shape, p, load_into):
        """The uint8 pixels of ``paths`` from the cache in ``cache_dir``, built where missing."""
        _cache.check_outside_data(self.cache_dir, paths)
        keys = [None] * len(paths)

        def key(i):
            keys[i] = _cache.content_key(paths[i])

        _run_threaded(key, len(paths), p["n_jobs"])
        settings = {
            name: p[name]
            for name in ("size", "channels", "keep_aspect", "decoder", "standardize",
                         "crop_foreground", "foreground_threshold", "crop_margin",
                         "mirror_difference")
        }
        settings["decoder"] = "turbo" if (
            p["decoder"] == "auto" and turbo_available()) else "pillow"
        settings["versions"] = _pixel_code_versions()
        folder = _cache.settings_folder(self.cache_dir, settings)

        def fill(indices, out):
            _run_threaded(lambda j: load_into(out, indices[j], indices[j]), len(indices),
                          p["n_jobs"])

        return _cache.cached_pixels(folder, keys, shape, fill)

    def _check_params(self):
        height, width = _check_size(self.size)
        channels = self.channels
        if isinstance(channels, bool) or channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3; got {channels!r}")
        if not isinstance(self.keep_aspect, (bool, np.bool_)):
            raise ValueError(f"keep_aspect must be True or False; got {self.keep_aspect!r}")
        try:
            dtype = _DTYPES[np.dtype(self.dtype)]
        except (TypeError, KeyError):
            raise ValueError(f"dtype must be 'float32' or 'uint8'; got {self.dtype!r}") from None
        if self.decoder not in ("auto", "pillow"):
            raise ValueError(f"decoder must be 'auto' or 'pillow'; got {self.decoder!r}")
        mean, std = _check_normalize(self.normalize, channels)
        if mean is not None and dtype == "uint8":
            raise ValueError(
                "normalize needs dtype='float32': uint8 output holds the raw 0-255 pixels; "
                f"got normalize={self.normalize!r} with dtype='uint8'"
            )
        if self.standardize not in (None, "percentile", "zscore"):
            raise ValueError(
                f"standardize must be None, 'percentile' or 'zscore'; got {self.standardize!r}"
            )
        if self.standardize == "zscore" and (dtype == "uint8" or mean is not None):
            raise ValueError(
                "standardize='zscore' gives values around 0 with unit spread: it needs "
                "dtype='float32' and normalize=None; got "
                f"dtype={self.dtype!r}, normalize={self.normalize!r}"
            )
        if not isinstance(self.crop_foreground, (bool, np.bool_)):
            raise ValueError(
                f"crop_foreground must be True or False; got {self.crop_foreground!r}"
            )
        threshold = self.foreground_threshold
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, numbers.Real)
            or not 0 <= threshold < 255
        ):
            raise ValueError(
                "foreground_threshold must be a grey level in [0, 255) (pixels above it are "
                f"the head); got {threshold!r}"
            )
        margin = self.crop_margin
        if isinstance(margin, bool) or not isinstance(margin, numbers.Real) or not margin >= 0:
            raise ValueError(
                "crop_margin must be a fraction >= 0 of the head's box, added on each side; "
                f"got {margin!r}"
            )
        if not isinstance(self.mirror_difference, (bool, np.bool_)):
            raise ValueError(
                f"mirror_difference must be True or False; got {self.mirror_difference!r}"
            )
        if self.mirror_difference and channels != 3:
            raise ValueError(
                "mirror_difference=True puts the left-right difference in the third channel: "
                f"it needs channels=3; got channels={channels!r}"
            )
        if self.cache_dir is not None and not isinstance(self.cache_dir, (str, os.PathLike)):
            raise ValueError(f"cache_dir must be None or a folder path; got {self.cache_dir!r}")
        return {
            "size": (height, width),
            "channels": channels,
            "keep_aspect": bool(self.keep_aspect),
            "mean": mean,
            "std": std,
            "dtype": dtype,
            "n_jobs": _n_threads(self.n_jobs),
            "decoder": self.decoder,
            "standardize": self.standardize,
            "crop_foreground": bool(self.crop_foreground),
            "foreground_threshold": float(threshold),
            "crop_margin": float(margin),
            "mirror_difference": bool(self.mirror_difference),
        }


def _mirror_difference(plane):
    """``|plane - plane mirrored left to right|`` of one uint8 plane, as uint8."""
    signed = plane.astype(np.int16)
    return np.abs(signed - signed[:, ::-1]).astype(np.uint8)


def _pixel_code_versions():
    import PIL

    from ._version import __version__

    versions = {"skbrain": __version__, "pillow": PIL.__version__}
    if turbo_available():
        import simplejpeg

        versions["simplejpeg"] = simplejpeg.__version__
    return versions


def _is_path(item):
    return isinstance(item, (str, bytes, os.PathLike))


def _foreground_box(img, threshold, margin):
    """The box (left, top, right, bottom) of ``img``'s pixels brighter than ``threshold``,
    widened by ``margin``; the whole image when no pixel is that bright."""
    gray = img if img.mode == "L" else img.convert("L")
    box = gray.point(lambda v: 255 if v > threshold else 0).getbbox()
    if box is None:
        return (0, 0, img.width, img.height)
    left, top, right, bottom = box
    dx, dy = round((right - left) * margin), round((bottom - top) * margin)
    return (max(0, left - dx), max(0, top - dy), min(img.width, right + dx),
            min(img.height, bottom + dy))


def _crop_foreground(img, threshold, margin):
    """Crop ``img`` to the box of its pixels brighter than ``threshold``, plus ``margin``.

    An image with no such pixel is left whole.
    """
    box = _foreground_box(img, threshold, margin)
    return img.crop(box) if box != (0, 0, img.width, img.height) else img


def _fit_window(w0, h0, width, height, keep_aspect):
    """(top, left, height, width) of a ``w0`` x ``h0`` picture resized into ``width`` x
    ``height``: the whole output, or the centred window that keeps its aspect."""
    if keep_aspect:
        scale = min(width / w0, height / h0)
        new_w = min(width, max(1, round(w0 * scale)))
        new_h = min(height, max(1, round(h0 * scale)))
    else:
        new_w, new_h = width, height
    return (height - new_h) // 2, (width - new_w) // 2, new_h, new_w


def _percentile_rescale(image, low=1.0, high=99.0):
    """Map the ``low``/``high`` percentiles of a uint8 image to 0/255, clipping beyond."""
    lo, hi = _uint8_percentiles(image, (low, high))
    if hi <= lo:
        return np.zeros_like(image)
    scaled = (image.astype(np.float32) - np.float32(lo)) * np.float32(255 / (hi - lo))
    return np.rint(np.clip(scaled, 0, 255)).astype(np.uint8)


def _uint8_percentiles(image, qs):
    """``np.percentile(image, qs)`` (linear interpolation) of a uint8 array, from its histogram.

    Sorting 67,500 values an image made the percentiles cost as much as decoding; with 256
    levels the order statistics can be read off the cumulative counts instead.
    """
    cumulative = np.cumsum(np.bincount(image.ravel(), minlength=256))
    n = cumulative[-1]
    out = []
    for q in qs:
        position = q / 100 * (n - 1)
        below = int(np.floor(position))
        # The k-th smallest value (0-based) is the first level whose count exceeds k.
        lower, upper = np.searchsorted(cumulative, [below, min(below + 1, n - 1)], side="right")
        out.append(lower + (position - below) * (upper - lower))
    return out


def _zscore(image, threshold):
    """In place: subtract the mean of the head's pixels (above ``threshold``) and divide by
    their standard deviation; a blank image (no such pixel, or no spread) stays as it is."""
    head = image.mean(axis=0) > threshold
    if not head.any():
        return
    values = image[:, head]
    std = values.std()
    if std > 0:
        image -= values.mean()
        image /= std


def _check_size(size):
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        pair = (size, size)
    elif (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in size)
    ):
        pair = tuple(size)
    else:
        raise ValueError(f"size must be an int or a (height, width) pair of ints; got {size!r}")
    if min(pair) < 1:
        raise ValueError(f"size must be positive; got {size!r}")
    return int(pair[0]), int(pair[1])


def _check_normalize(normalize, channels):
    if normalize is None:
        return None, None
    if isinstance(normalize, str):
        if normalize != "imagenet":
            raise ValueError(
                f"normalize must be None, 'imagenet' or (mean, std); got {normalize!r}"
            )
        mean, std = (_IMAGENET_MEAN, _IMAGENET_STD) if channels == 3 else _IMAGENET_GRAY
    else:
        try:
            mean, std = normalize
        except (TypeError, ValueError):
            raise ValueError(
                f"normalize must be None, 'imagenet' or (mean, std); got {normalize!r}"
            ) from None
    try:
        mean = np.broadcast_to(np.asarray(mean, dtype=np.float32), (channels,)).copy()
        std = np.broadcast_to(np.asarray(std, dtype=np.float32), (channels,)).copy()
    except (TypeError, ValueError):
        raise ValueError(
            f"normalize mean and std must be numbers or {channels} values (one per channel); "
            f"got {normalize!r}"
        ) from None
    if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()):
        raise ValueError(f"normalize needs finite means and positive stds; got {normalize!r}")
    return mean, std


def _n_threads(n_jobs):
    if n_jobs is None:
        return 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ValueError(f"n_jobs must be None or a non-zero int; got {n_jobs!r}")
    if n_jobs < 0:
        return max(1, (os.cpu_count() or 1) + 1 + int(n_jobs))
    return int(n_jobs)


def _run_threaded(func, n, n_threads):
    """Call ``func(i)`` for i in range(n) on up to ``n_threads`` threads.

    The first error, in index order, is raised, and work not yet started is
    cancelled rather than finished first.
    """
    workers = min(n_threads, n)
    if workers <= 1:
        for i in range(n):
            func(i)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(func, i) for i in range(n)]
        try:
            for future in futures:
                future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _as_items(X):
    """Split ``X`` into single images, with the name each one has in error messages."""
    if isinstance(X, (str, bytes, os.PathLike, Image.Image)):
        raise ValueError(f"X must be a list of images, not a single {type(X).__name__}; use [X]")
    if hasattr(X, "__array__") and not isinstance(X, np.ndarray):
        X = np.asarray(X)
    if isinstance(X, np.ndarray) and X.dtype.kind in "biuf":
        if X.ndim == 4 and X.shape[-1] not in (1, 3, 4) and X.shape[1] in (1, 3, 4):
            X = np.moveaxis(X, 1, -1)
        if X.ndim not in (3, 4):
            raise ValueError(
                "an array X must be a stack of images of shape (n, height, width) or "
                f"(n, height, width, channels); got shape {X.shape}. For one image use X[None]"
            )
    elif isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        if X.ndim != 1:
            raise ValueError(
                f"X must be a 1-D list of images or paths; got an array of shape {X.shape}"
            )
    else:
        try:
            X = list(X)
        except TypeError:
            raise ValueError(
                f"X must be a list of images or paths; got {type(X).__name__}"
            ) from None
    return X, [f"X[{i}]" for i in range(len(X))]


def _resize_into(img, dest, keep_aspect):
    """Resize ``img`` into ``dest``, a zeroed uint8 array of shape (channels, height, width)."""
    channels, height, width = dest.shape
    top, left, new_h, new_w = _fit_window(*img.size, width, height, keep_aspect)
    if img.size != (new_w, new_h):
        img = img.resize((new_w, new_h), Image.Resampling.BILINEAR, reducing_gap=2.0)
    pixels = np.asarray(img)
    window = dest[:, top : top + new_h, left : left + new_w]
    if pixels.ndim == 2:
        window[:] = pixels
    else:
        window[:] = pixels.transpose(2, 0, 1)
