"""What the estimators take as ``X``: arrays of images, checked before any work.

One function, :func:`check_images`, that every estimator's ``fit`` and
``predict_proba`` start with: scikit-learn's ``validate_data`` (NaN,
``n_features_in_`` as the channel count) plus the image-specific refusals whose
messages say what to do (``ImageResizer`` for paths, ``reshape`` for flattened
images, ``transpose`` for channels-last arrays).
"""

import numpy as np
import torch
from sklearn.utils.validation import validate_data

__all__ = ["check_images"]


def _holds_paths_or_images(X):
    # Object arrays of numbers (as pandas gives) are converted like any array;
    # those of paths, PIL images or per-image arrays need ImageResizer.
    if X.ndim < 2:
        return True
    if not X.size:
        return False
    first = X.flat[0]
    return isinstance(first, (str, bytes, np.ndarray)) or hasattr(first, "__fspath__") or (
        hasattr(first, "getbands")
    )


def _looks_like_paths(X):
    if isinstance(X, (str, bytes)):
        return True
    first = X[0] if len(X) else None
    return isinstance(first, (str, bytes)) or hasattr(first, "__fspath__")


def check_images(estimator, X, *, reset):
    """``X`` as a C-contiguous ``(n_samples, channels, height, width)`` array for ``estimator``.

    Float images become float32 and uint8 ones stay uint8; 3-D input is one
    channel. File paths, PIL images, 2-D arrays (flattened images) and
    channels-last arrays are refused with what to do instead; ``reset`` is
    scikit-learn's (``fit`` records ``n_features_in_``, the channels, and
    later calls are checked against it).
    """
    if not hasattr(X, "shape") and not hasattr(X, "__array__"):
        try:
            if _looks_like_paths(X):
                raise TypeError
            X = np.asarray(X)
        except (TypeError, ValueError):
            raise ValueError(
                f"{type(estimator).__name__} takes image arrays of shape (n_samples, "
                "channels, height, width), not file paths or images; put "
                "skbrain.ImageResizer(...) before it in a Pipeline"
            ) from None
    if getattr(X, "dtype", None) is not None and (
        X.dtype.kind in "US" or (X.dtype.kind == "O" and _holds_paths_or_images(X))
    ):
        raise ValueError(
            f"{type(estimator).__name__} takes image arrays of shape (n_samples, channels, "
            "height, width), not file paths or images; put skbrain.ImageResizer(...) "
            "before it in a Pipeline"
        )
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    if getattr(X, "ndim", None) == 2 and not estimator._accepts_tabular_X:
        raise ValueError(
            f"X must have shape (n_samples, channels, height, width); got a 2-D array of "
            f"shape {X.shape}, which {type(estimator).__name__} does not read as images: "
            "reshape flattened images with X.reshape(n_samples, channels, height, width), "
            "or put skbrain.ImageResizer(...) before it to read image files"
        )
    if getattr(X, "ndim", None) == 3:
        X = np.asarray(X)[:, None]
    keep_uint8 = getattr(X, "dtype", None) == np.uint8
    try:
        X = validate_data(
            estimator,
            X,
            reset=reset,
            allow_nd=True,
            dtype=None if keep_uint8 else np.float32,
            ensure_min_features=1,
        )
    except ValueError as exc:
        if getattr(X, "ndim", None) == 4 and "features, but" in str(exc):
            # sklearn's wording (its checks match it) plus what it means for images.
            raise ValueError(
                f"{exc} For images the features are the channels: it was fitted on "
                f"{estimator.n_features_in_}-channel images and got {X.shape[1]}-channel ones; "
                f"resize with ImageResizer(..., channels={estimator.n_features_in_})"
            ) from None
        raise
    if X.ndim == 2:  # only with _accepts_tabular_X: one-row grayscale images
        X = X[:, None, None, :]
    elif X.ndim != 4:
        raise ValueError(
            f"X must have shape (n_samples, channels, height, width); got an array of "
            f"shape {X.shape}"
        )
    elif X.shape[1] > 4 and X.shape[-1] in (1, 3, 4):
        raise ValueError(
            f"X has shape {X.shape}, which looks channels-last; skbrain estimators take "
            "(n_samples, channels, height, width): use X.transpose(0, 3, 1, 2)"
        )
    return np.ascontiguousarray(X)
