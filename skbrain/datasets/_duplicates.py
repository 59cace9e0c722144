"""Finding copies of the same picture, so that they can be kept in one CV group."""

import hashlib
import io
import os

import numpy as np
from joblib import Parallel, delayed
from PIL import Image
from scipy.fft import dctn
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .._imageio import _read_image, decode_image, read_file
from ..exceptions import ImageLoadError

__all__ = ["find_duplicate_groups"]

# Measured on the 253 Kaggle images (see find_duplicate_groups): every pair
# seen to be the same picture is within 30 bits, the closest pair of different
# pictures is 52 bits apart, and nothing falls in between.
DEFAULT_THRESHOLD = 44
_HASH_BITS = 256
_THUMB = 128
# Pixels above this fraction of the image maximum count as content when cropping.
_CONTENT_LEVEL = 0.15


def find_duplicate_groups(images, *, threshold=DEFAULT_THRESHOLD, n_jobs=None):
    """Give copies of the same picture the same group id.

    Byte-identical files, and re-encoded, resized, cropped or lightly
    annotated copies of one picture, get one group id; use the ids as
    ``groups`` in :class:`~sklearn.model_selection.GroupKFold` and friends so
    that no picture is in both the training and the test part of a split.

    Parameters
    ----------
    images : sequence of path, PIL image or array
        The images, as accepted by :func:`skbrain._imageio.read_image`.
    threshold : int, default=44
        Two images are copies when their 256-bit perceptual hashes differ in
        at most this many bits. 0 links only byte-identical files and images
        whose hashes are equal (such as light re-encodings).
    n_jobs : int, default=None
        Threads that decode the images (``None``: 1, ``-1``: all processors).

    Returns
    -------
    groups : ndarray of shape (n_images,), dtype int64
        Group ids 0, 1, 2, ... numbered in order of first appearance.

    Raises
    ------
    skbrain.exceptions.ImageLoadError
        If a file cannot be read.

    Notes
    -----
    Each image is decoded once, as grayscale at reduced scale, and squeezed to
    a 128x128 thumbnail. Two DCT perceptual hashes are taken from it: one of
    the whole picture and one of the bounding box of its content (pixels
    brighter than 15 % of the image maximum), which matches copies that were
    cropped or padded differently. Each hash keeps the signs, relative to
    their median, of the 16x16 lowest-frequency DCT coefficients of a 32x32
    thumbnail. Two images are linked when either hash pair is within
    ``threshold`` bits (or their files are byte-identical), and the groups are
    the connected components of the links, so copies of copies join too.
    Hamming distances are computed in chunks with numpy, so ten thousand
    images take seconds.

    Blank images (all one colour) have the same hashes, so they form one group.

    The default threshold was measured on the 253 Kaggle images: all pairs
    that are the same picture (checked by eye) are within 30 bits, the
    closest pair of different pictures (two slices of one patient) is 52 bits
    apart, and no pair falls in between; pairs across the two classes are at
    least 62 bits apart. At 44 bits the 253 files form 200 groups, none of
    which mixes tumour and no-tumour images.

    Examples
    --------
    >>> import numpy as np
    >>> from PIL import Image
    >>> from skbrain.datasets import find_duplicate_groups, make_synthetic_mri
    >>> images = list(make_synthetic_mri(3, image_size=64, random_state=0).data)
    >>> brighter = np.clip(images[0].astype(int) + 10, 0, 255).astype(np.uint8)
    >>> smaller = Image.fromarray(images[1]).resize((40, 40))
    >>> find_duplicate_groups(images + [brighter, smaller])
    array([0, 1, 2, 0, 1])
    """
    hashes, digests, _ = _hash_images(list(images), on_error="raise", n_jobs=n_jobs)
    return _group(hashes, digests, threshold)


def _hash_images(items, *, on_error="raise", n_jobs=None):
    """Hash every item; return (hashes, sha256 digests, {index: error message}).

    ``hashes`` has shape (n, 2, 4) uint64: the whole-image and the cropped
    hash, each 256 bits. ``digests`` holds the sha256 of each file's bytes
    (None for images given in memory). With ``on_error="skip"`` unreadable
    files get a zero hash and an entry in the error dict; with "raise" the
    first unreadable file (in order) raises.
    """
    n = len(items)
    hashes = np.zeros((n, 2, _HASH_BITS // 64), dtype=np.uint64)
    digests = [None] * n
    errors = {}

    def work(i):
        try:
            digest, thumb = _thumbnail(items[i], f"images[{i}]")
        except ImageLoadError as exc:
            return exc
        digests[i] = digest
        hashes[i] = _phashes(thumb)
        return None

    # Decoding and hashing release the GIL, so threads share the arrays above.
    failures = Parallel(n_jobs=n_jobs, prefer="threads")(delayed(work)(i) for i in range(n))
    for i, exc in enumerate(failures):
        if exc is not None:
            if on_error == "raise":
                raise exc  # the first unreadable file, in order
            errors[i] = str(exc)
    return hashes, digests, errors


def _thumbnail(item, name):
    """Return (sha256 of the file or None, square float64 grayscale thumbnail)."""
    if isinstance(item, (str, bytes, os.PathLike)):
        label, data = read_file(item)
        digest = hashlib.sha256(data).hexdigest()
        img = decode_image(io.BytesIO(data), label, mode="L", size_hint=_THUMB)
    else:
        digest = None
        img = _read_image(item, mode="L", size_hint=_THUMB, name=name)
    thumb = img.resize((_THUMB, _THUMB), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return digest, np.asarray(thumb, dtype=np.float64)


def _phashes(thumb):
    """Whole-image and content-cropped 256-bit DCT hashes, as (2, 4) uint64."""
    content = thumb > _CONTENT_LEVEL * thumb.max()
    rows, cols = np.flatnonzero(content.any(axis=1)), np.flatnonzero(content.any(axis=0))
    if rows.size and cols.size:
        cropped = thumb[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    else:
        cropped = thumb
    return np.stack([_phash(thumb), _phash(cropped)])


def _phash(pixels):
    side = int(np.sqrt(_HASH_BITS))
    small = Image.fromarray(np.ascontiguousarray(pixels, dtype=np.float32)).resize(
        (2 * side, 2 * side), Image.Resampling.BILINEAR
    )
    coeffs = dctn(np.asarray(small, dtype=np.float64), norm="ortho")[:side, :side].ravel()
    # The DC term only measures brightness; leave it out of the median.
    bits = coeffs > np.median(coeffs[1:])
    return np.packbits(bits).view(">u8").astype(np.uint64)


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _popcount(words):
    """Number of set bits in each element of a uint64 array, as uint8."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words)
    as_bytes = np.ascontiguousarray(words).view(np.uint8)  # numpy < 2.0
    return _POPCOUNT[as_bytes].reshape(*words.shape, 8).sum(axis=-1, dtype=np.uint8)


def _close_pairs(hashes, threshold):
    """Index pairs (i < j) whose hashes are within ``threshold`` bits, for any hash kind."""
    n, kinds, words = hashes.shape
    # Rows per chunk so that each (rows x n) block stays near 16 MB of uint64.
    chunk = max(1, 2_000_000 // max(n, 1))
    found_i, found_j = [], []
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        close = None
        for k in range(kinds):
            dist = np.zeros((stop - start, n - start), dtype=np.uint16)
            for w in range(words):
                dist += _popcount(hashes[start:stop, None, k, w] ^ hashes[None, start:, k, w])
            close = dist <= threshold if close is None else close | (dist <= threshold)
        rows, cols = np.nonzero(close)
        rows = rows + start
        cols = cols + start
        keep = cols > rows
        found_i.append(rows[keep])
        found_j.append(cols[keep])
    return np.concatenate(found_i), np.concatenate(found_j)


def _group(hashes, digests, threshold):
    """Connected components of the "copy of" links; ids in order of first appearance."""
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, np.integer))
        or threshold < 0
    ):
        raise ValueError(f"threshold must be a non-negative int (bits); got {threshold!r}")
    n = len(hashes)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    pairs_i, pairs_j = _close_pairs(hashes, threshold)
    first_of = {}
    same_i, same_j = [], []
    for i, digest in enumerate(digests):
        if digest is not None:
            first = first_of.setdefault(digest, i)
            if first != i:
                same_i.append(first)
                same_j.append(i)
    i = np.concatenate([pairs_i, np.asarray(same_i, dtype=np.int64)])
    j = np.concatenate([pairs_j, np.asarray(same_j, dtype=np.int64)])
    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    # Relabel 0, 1, 2, ... in order of first appearance.
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.ravel()]
