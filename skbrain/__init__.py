"""skbrain: scikit-learn estimators that tell brain MRI images with a tumor
from those without, built on skorch and PyTorch."""

from ._version import __version__
from .classifiers import (
    CNNClassifier,
    CompactCNNClassifier,
    DeepCNNClassifier,
    PyramidCNNClassifier,
    SimpleCNNClassifier,
    TwoConvCNNClassifier,
    WideCNNClassifier,
)
from .datasets import fetch_brain_mri, load_brain_mri, make_synthetic_mri
from .preprocessing import ImageResizer

__all__ = [
    "__version__",
    "CNNClassifier",
    "CompactCNNClassifier",
    "DeepCNNClassifier",
    "ImageResizer",
    "PyramidCNNClassifier",
    "SimpleCNNClassifier",
    "TwoConvCNNClassifier",
    "WideCNNClassifier",
    "fetch_brain_mri",
    "load_brain_mri",
    "make_synthetic_mri",
]
