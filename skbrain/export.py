"""Export a fitted skbrain network to ONNX, to run it without Python or PyTorch.

The exported graph is the network followed by a softmax:

* input ``images``: float32 of shape ``(batch, channels, height, width)``
  with values in [0, 1] (what :class:`~skbrain.preprocessing.ImageResizer`
  returns). The batch axis is dynamic; height and width are fixed at
  ``image_size``. Decoding, resizing and the scaling of 0-255 pixels to
  [0, 1] stay outside the graph: divide uint8 images by 255 first.
* output ``probabilities``: float32 ``(batch, n_classes)``, columns in the
  order of the estimator's ``classes_`` (for skbrain's labels: no tumor,
  tumor). They equal ``predict_proba`` without test-time augmentation.
* output ``logits``: the network's raw scores, before the softmax.

The classes, the input range and the skbrain version are stored in the
model's metadata (``onnx.load(path).metadata_props``).

The graph is traced with PyTorch's TorchScript-based exporter
(``torch.onnx.export(..., dynamo=False)``), which needs only the ``onnx``
package; onnxruntime runs the result. Install both with
``pip install skbrain[onnx]``.
"""

import io
import json
import numbers
import warnings

import numpy as np
import torch
from torch import nn

from ._fileio import atomic_write
from ._unwrap import unwrap
from ._version import __version__

__all__ = ["check_onnx", "to_onnx"]

OPSET_VERSION = 17
INPUT_NAME = "images"
OUTPUT_NAMES = ("probabilities", "logits")


def _require_onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "ONNX export needs the onnx package: pip install 'skbrain[onnx]' (installs onnx "
            "and onnxruntime)"
        ) from None
    return onnx


class _WithProbabilities(nn.Module):
    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, images):
        logits = self.module(images).float()
        return torch.softmax(logits, dim=1), logits


def _check_image_size(image_size):
    if isinstance(image_size, numbers.Integral) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    try:
        height, width = (int(v) for v in image_size)
        valid = all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                    for v in image_size) and height > 0 and width > 0
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise ValueError(
            f"image_size must be a positive int or a (height, width) pair; got {image_size!r}"
        )
    return height, width


def to_onnx(estimator, path, image_size=150):
    """Write a fitted estimator's network, with a softmax, as an ONNX file.

    Parameters
    ----------
    estimator : fitted skbrain estimator or Pipeline ending in one
        Only the network is exported; a pipeline's other steps (such as
        :class:`~skbrain.preprocessing.ImageResizer`) are not.
    path : str or path-like
        The ``.onnx`` file to write (replaced atomically).
    image_size : int or (int, int), default=150
        Height and width of the exported input. Use the size the model was
        trained at (``estimator.image_shape_[1:]``).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ImportError
        When the ``onnx`` package is missing (``pip install 'skbrain[onnx]'``).

    Notes
    -----
    Input: float32 ``images`` of shape ``(batch, channels, height, width)`` in
    [0, 1], batch size free. First output: ``probabilities``, shape
    ``(batch, n_classes)``, columns in ``classes_`` order; second output:
    ``logits``. See the module documentation.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skbrain import SimpleCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(16, image_size=32, random_state=0)
    >>> clf = SimpleCNNClassifier(n_kernels=4, max_epochs=1, random_state=0)
    >>> clf = clf.fit(data.data, data.target)
    >>> path = to_onnx(clf, pathlib.Path(tempfile.mkdtemp()) / "simple.onnx", image_size=32)
    >>> import onnxruntime
    >>> session = onnxruntime.InferenceSession(str(path))
    >>> [o.name for o in session.get_outputs()]
    ['probabilities', 'logits']
    >>> proba, _ = session.run(None, {"images": data.data[:2, None] / np.float32(255)})
    >>> np.allclose(proba, clf.predict_proba(data.data[:2]), atol=1e-4)
    True
    """
    from pathlib import Path

    onnx = _require_onnx()
    estimator = unwrap(estimator, caller="to_onnx", export=True).estimator
    height, width = _check_image_size(image_size)
    path = Path(path)
    module = estimator.module_
    channels = int(estimator.image_shape_[0])
    parameter = next(module.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    example = torch.rand(2, channels, height, width, device=device)

    wrapped = _WithProbabilities(module)
    was_training = module.training
    buffer = io.BytesIO()
    try:
        wrapped.eval()
        with warnings.catch_warnings():
            # The legacy exporter announces its own deprecation, and the
            # networks' shape-dependent pooling windows trace as constants,
            # which is right for the fixed image size exported.
            warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
            warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX")
            warnings.filterwarnings("ignore", message=".*will be removed")
            warnings.simplefilter("ignore", category=DeprecationWarning)
            torch.onnx.export(
                wrapped,
                (example,),
                buffer,
                input_names=[INPUT_NAME],
                output_names=list(OUTPUT_NAMES),
                dynamic_axes={name: {0: "batch"} for name in (INPUT_NAME, *OUTPUT_NAMES)},
                opset_version=OPSET_VERSION,
                dynamo=False,
            )
    finally:
        module.train(was_training)

    model = onnx.load_from_string(buffer.getvalue())
    classes = np.asarray(estimator.classes_).tolist()
    metadata = {
        "producer": f"skbrain {__version__}",
        "estimator": type(estimator).__name__,
        "classes": json.dumps(classes, default=str),
        "input": f"float32 (batch, {channels}, {height}, {width}) in [0, 1]",
        "outputs": "probabilities (softmax, columns follow classes), logits",
    }
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.producer_name = "skbrain"
    model.producer_version = __version__
    onnx.checker.check_model(model)
    with atomic_write(path, "wb") as f:
        f.write(model.SerializeToString())
    return path


def check_onnx(path, model, X=None, *, n_images=8, random_state=0):
    """Largest difference between onnxruntime's probabilities and the model's.

    Parameters
    ----------
    path : str or path-like
        An ONNX file written by :func:`to_onnx`.
    model : fitted skbrain estimator, or anything that wraps one
        The model exported; its network's probabilities without test-time
        augmentation (what the graph computes) are the reference.
    X : array of shape (n, channels, height, width) in [0, 1], default=None
        Images to compare on; ``None`` draws ``n_images`` random ones of the
        exported size.
    n_images : int, default=8
    random_state : int, default=0

    Returns
    -------
    float
        ``max |onnxruntime - predict_proba|`` over the images and classes.
    """
    try:
        import onnxruntime
    except ImportError:
        raise ImportError("the parity check needs onnxruntime: pip install 'skbrain[onnx]'"
                          ) from None
    estimator = unwrap(model, caller="check_onnx", export=True).estimator
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    if X is None:
        shape = session.get_inputs()[0].shape[1:]
        if not all(isinstance(v, int) for v in shape):
            shape = estimator.image_shape_
        X = np.random.default_rng(random_state).random((n_images, *shape), dtype=np.float32)
    X = np.asarray(X, dtype=np.float32)
    proba, _ = session.run(None, {INPUT_NAME: X})
    # The graph is the network alone: compare with it, without TTA views.
    expected = estimator.net_.predict_proba(X)
    return float(np.abs(proba - expected).max())
