"""The errors and warnings skbrain raises.

Each error subclasses the built-in type that sklearn users already catch
(``ValueError``, ``OSError``), so ``except ValueError`` keeps working.
"""


class ImageLoadError(ValueError):
    """An image file could not be read; the message names the file and why.

    Examples
    --------
    >>> from skbrain.exceptions import ImageLoadError
    >>> issubclass(ImageLoadError, ValueError)
    True
    """


class DataNotFoundError(OSError):
    """The brain MRI images are missing and could not be downloaded.

    Examples
    --------
    >>> from skbrain.exceptions import DataNotFoundError
    >>> issubclass(DataNotFoundError, OSError)
    True
    """


class WeightsNotFoundError(OSError):
    """Pretrained weights are neither cached nor reachable.

    Examples
    --------
    >>> from skbrain.exceptions import WeightsNotFoundError
    >>> issubclass(WeightsNotFoundError, OSError)
    True
    """


class ModelFileError(ValueError):
    """A file is not a saved skbrain model, or one this version cannot read.

    Examples
    --------
    >>> from skbrain.exceptions import ModelFileError
    >>> issubclass(ModelFileError, ValueError)
    True
    """


class SkippedFilesWarning(UserWarning):
    """Some files in a folder could not be read and were skipped.

    Examples
    --------
    >>> from skbrain.exceptions import SkippedFilesWarning
    >>> issubclass(SkippedFilesWarning, UserWarning)
    True
    """
