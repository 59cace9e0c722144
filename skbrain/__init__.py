"""skbrain: scikit-learn estimators that tell brain MRI images with a tumor
from those without, built on skorch and PyTorch.

The public names are re-exported here from the modules that define them:
:mod:`skbrain.classifiers` (hand-made CNNs), :mod:`skbrain.pretrained`
(pretrained families), :mod:`skbrain.preprocessing`, :mod:`skbrain.datasets`,
:mod:`skbrain.evaluation`, :mod:`skbrain.persistence`, :mod:`skbrain.model_card` and
:mod:`skbrain.weights` (the shipped detectors).
"""

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
from .evaluation import compare_models
from .metrics import classification_scores
from .model_card import model_card
from .model_selection import StratifiedGroupShuffleSplit, train_test_split_grouped
from .persistence import load_model, save_model
from .preprocessing import ImageResizer
from .pretrained import EfficientNetClassifier, ResNetClassifier, TimmClassifier, VGGClassifier
from .registry import get_estimator, list_models
from .weights import list_pretrained, load_pretrained

__all__ = [
    "__version__",
    "CNNClassifier",
    "CompactCNNClassifier",
    "DeepCNNClassifier",
    "EfficientNetClassifier",
    "ImageResizer",
    "PyramidCNNClassifier",
    "ResNetClassifier",
    "SimpleCNNClassifier",
    "StratifiedGroupShuffleSplit",
    "TimmClassifier",
    "TwoConvCNNClassifier",
    "VGGClassifier",
    "WideCNNClassifier",
    "classification_scores",
    "compare_models",
    "fetch_brain_mri",
    "get_estimator",
    "list_models",
    "list_pretrained",
    "load_brain_mri",
    "load_model",
    "load_pretrained",
    "make_synthetic_mri",
    "model_card",
    "save_model",
    "train_test_split_grouped",
]
