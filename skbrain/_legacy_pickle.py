"""Format 1, the joblib pickles of skbrain 0.x, read only for files the user trusts.

Loading a pickle runs code chosen by whoever wrote the file, so
:func:`skbrain.persistence.load_model` calls :func:`load_pickle` only with
``allow_pickle=True`` (after warning); saving the model again converts it to
the pickle-free format.
"""

import warnings

from ._modelfile import FORMAT_MAGIC, PICKLE_FORMAT_VERSION
from .exceptions import ModelFileError

_PAYLOAD_KEYS = ("magic", "format_version", "created", "versions", "metadata", "model")


def load_pickle(path, name, return_info):
    """Format 1: a joblib pickle of a dict (skbrain 0.x)."""
    import joblib
    from skorch.exceptions import DeviceWarning

    try:
        with warnings.catch_warnings():
            # The CPU fallback for a CUDA-fitted model is intended and shows in device_.
            warnings.simplefilter("ignore", DeviceWarning)
            payload = joblib.load(path)
    except (ModuleNotFoundError, AttributeError) as exc:
        raise ModelFileError(
            f"{name} could not be loaded: {exc}. It was probably saved with a different "
            "version of skbrain or of its dependencies"
        ) from exc
    except Exception as exc:
        raise ModelFileError(
            f"{name} is not an skbrain model file or is damaged "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(payload, dict) or payload.get("magic") != FORMAT_MAGIC:
        raise ModelFileError(
            f"{name} is not an skbrain model file (it is a pickle of "
            f"{type(payload).__name__}, without the skbrain marker)"
        )
    version = tuple(payload.get("format_version") or (0,))
    if version[0] > PICKLE_FORMAT_VERSION[0]:
        raise ModelFileError(f"{name}: a pickle of format {version} is not one skbrain wrote")
    missing = [key for key in _PAYLOAD_KEYS if key not in payload]
    if missing:
        raise ModelFileError(f"{name} is a damaged skbrain model file (missing {missing})")
    model = payload["model"]
    if not return_info:
        return model
    info = {key: payload[key] for key in _PAYLOAD_KEYS if key not in ("magic", "model")}
    info["format_version"] = version
    info["saved_as"] = []
    info["path"] = str(path)
    return model, info
