"""Reading images: the one place in skbrain that decodes image files.

Everything that turns a file, a PIL image or an array into pixels goes through
:func:`read_image`, so every part of skbrain treats odd files the same way:
EXIF rotation, transparency, palettes, CMYK, 16-bit and float images, and
broken files that must fail with a message naming the file.

One module per format sits behind it, and one dispatcher in front:

- ``_dispatch``: :func:`read_image`, :func:`decode_image`, slice references
  (:func:`slice_reference`, :func:`parse_reference`), :func:`is_image_file`
  and :data:`READERS`, the formats tried before Pillow's;
- ``_raster``: Pillow for JPEG, PNG, BMP, GIF, TIFF and WebP, libjpeg-turbo
  for scaled JPEG decoding, and the mode rules every image ends with;
- ``_dicom``: pydicom (recognised by content, so files without an extension
  work too), frames and intensity windows;
- ``_nifti``: nibabel volumes read one 2-D slice at a time through a *slice
  reference* such as ``"scan.nii.gz::axial=40"``, with a small volume cache;
- ``_common``: what two readers share (file bytes, windows, uint8 scaling).

A package rather than three sibling ``_read_*.py`` files, because the readers
are one layer of skbrain (below the datasets and ``ImageResizer``): their
modules and their shared helpers stay together, out of the top-level modules,
and a new format has an obvious home. A new format is one module here with a
``claims(path)`` and a ``read(path, options)`` function, and one line in
``_dispatch.READERS``. The package is private like ``skbrain._imageio``, its
old home, which still re-exports every name.
"""

from ._common import WINDOWS, read_file
from ._dicom import dicom_pixels, dicom_to_uint8, is_dicom_file
from ._dispatch import (
    IMAGE_EXTENSIONS,
    READERS,
    Reader,
    decode_image,
    is_image_file,
    parse_reference,
    read_image,
    reader_for,
    slice_reference,
)
from ._nifti import is_nifti_file, nifti_slice_count, nifti_volume
from ._raster import decode_jpeg_scaled, turbo_available

__all__ = [
    "IMAGE_EXTENSIONS",
    "READERS",
    "Reader",
    "WINDOWS",
    "decode_image",
    "decode_jpeg_scaled",
    "dicom_pixels",
    "dicom_to_uint8",
    "is_dicom_file",
    "is_image_file",
    "is_nifti_file",
    "nifti_slice_count",
    "nifti_volume",
    "parse_reference",
    "read_file",
    "read_image",
    "reader_for",
    "slice_reference",
    "turbo_available",
]
