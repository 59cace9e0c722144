"""The old home of skbrain's image readers, now :mod:`skbrain._readers`.

Every name this module held is re-exported here, so ``from skbrain._imageio
import read_image`` (and the private helpers other modules and tests use)
keeps working. New code imports from :mod:`skbrain._readers`.
"""

from ._readers._common import (  # noqa: F401
    _INSTALL,
    _PERCENTILES,
    _PLANES,
    WINDOWS,
    _first_line,
    _require,
    _scale_to_uint8,
    _window_bounds,
    read_file,
)
from ._readers._dicom import (  # noqa: F401
    _DECODERS,
    _decode_dicom,
    _dicom_decode_error,
    _has_dicom_preamble,
    _linear_window,
    _read_dicom_dataset,
    dicom_pixels,
    dicom_to_uint8,
    is_dicom_file,
)
from ._readers._dispatch import (  # noqa: F401
    _REFERENCE_KEYS,
    _SEP,
    IMAGE_EXTENSIONS,
    _read_image,
    _stream_size,
    decode_image,
    is_image_file,
    parse_reference,
    read_image,
    slice_reference,
)
from ._readers._nifti import (  # noqa: F401
    _NIFTI_CACHE,
    _NIFTI_CACHE_SIZE,
    _NIFTI_LOCK,
    _load_nifti,
    _nifti_slice,
    _open_nifti,
    _Volume,
    is_nifti_file,
    nifti_slice_count,
    nifti_volume,
)
from ._readers._raster import (  # noqa: F401
    _DECODE_ERRORS,
    _HIGH_DEPTH_MODES,
    _ORIENTATION,
    _array_to_image,
    _bomb_error,
    _channels_equal,
    _has_exif,
    _has_transparency,
    _normalize_mode,
    _on_black,
    _pair,
    _reason,
    _upright,
    decode_jpeg_scaled,
    simplejpeg,
    turbo_available,
)

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
