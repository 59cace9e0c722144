"""The public hand-made CNN estimators.

Each named class is one line of :mod:`skbrain.networks`' catalogue
(``class DeepCNNClassifier(NamedCNNClassifier, architecture="deep")``): its
defaults, layers and documentation are read from there. Training, devices,
seeding and the sklearn contract live in
:class:`skbrain._base.BaseCNNClassifier`.

scikit-learn reads an estimator's hyperparameters from the signature of its
``__init__``. Rather than spelling seventeen training parameters out in
every class, :func:`estimator_init` writes each class an ``__init__`` with
an explicit :class:`inspect.Signature` (as :mod:`dataclasses` does): the
class's own parameters, then the training parameters of
``BaseCNNClassifier.__init__`` (so one added there reaches every class), then
``**kwargs`` for skorch's ``module__*``-style parameters.
"""

import inspect
from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseCNNClassifier
from .networks import (
    ARCHITECTURE_SPECS,
    ConvNet,
    block_layout,
    conv_channels,
)

__all__ = [
    "CNNClassifier",
    "SimpleCNNClassifier",
    "TwoConvCNNClassifier",
    "WideCNNClassifier",
    "DeepCNNClassifier",
    "PyramidCNNClassifier",
    "CompactCNNClassifier",
]

#: What every training parameter means: type and text, without the default,
#: which :func:`parameter_docs` reads from the signature.
PARAMETER_DOCS = {
    "lr": ("float", "Peak learning rate (of the one-cycle schedule)."),
    "max_epochs": ("int", "Passes over the training images."),
    "batch_size": ("int or \"auto\"", "Images per optimisation step. ``\"auto\"``: 16 on the CPU; "
                   "on CUDA about 128 images of 150 x 150 pixels (fewer for larger images, "
                   "at least 8 steps an epoch, never below 16) with ``lr`` scaled by the "
                   "square root of the batch over 16. The values used are ``batch_size_`` "
                   "and ``lr_``."),
    "optimizer": ('{"adamw", "adam", "sgd", "rmsprop"} or optimizer class',
                  "The torch optimizer; further arguments go through ``optimizer__*``."),
    "weight_decay": ("float", "Weight decay of the optimizer."),
    "lr_schedule": ('{"onecycle", "cosine", None}', "Learning-rate schedule over the fit."),
    "augment": ("bool", "Random flips, small rotations, zooms, shifts and intensity changes "
                        "of training batches only."),
    "early_stopping": ("bool or int",
                       "Hold out ``validation_fraction`` of the training images and stop when "
                       "the validation loss stalls for this many epochs (``True``: 5), keeping "
                       "the best weights. Off by default: small data sets need every image."),
    "validation_fraction": ("float",
                            "Share of training images held out when ``early_stopping`` is on."),
    "class_weight": ('None, "balanced" or dict',
                     "Loss weight of each class, keyed by the original labels."),
    "tta": ("int", "Test-time augmentation: ``predict_proba`` averages the image and this "
                   "many flipped/rotated views (0 to 7)."),
    "amp": ('"auto", bool, "bfloat16" or "float16"',
            'Mixed precision on CUDA: ``True`` is bfloat16 autocast without a gradient scaler '
            'where the GPU supports it, float16 with a scaler on older GPUs; ``"auto"`` follows '
            'the device table (float32 until mixed precision is measured to pay); off on the '
            'CPU. The precision used is ``amp_``.'),
    "compile": ("bool", "Train a ``torch.compile``-d network (prediction runs the plain one)."),
    "accelerator": ("None or accelerate.Accelerator",
                    "Train through Hugging Face accelerate (data-parallel over the processes "
                    "of ``accelerate launch``); see the distributed training guide. Set it to "
                    "None before saving the model."),
    "deterministic": ("bool", "Deterministic algorithms in torch and cuDNN during ``fit``."),
    "callbacks": ("list of skorch callbacks",
                  "Extra skorch callbacks, e.g. ``skorch.callbacks.TensorBoard``."),
    "device": ("str", '``"auto"`` picks CUDA, then MPS, then the CPU; or ``"cpu"``, '
                      '``"cuda"``, ``"cuda:1"``...'),
    "random_state": ("int, RandomState instance or None",
                     "Seeds initialisation, shuffling, augmentation and splits."),
    "verbose": ("int", "1 prints one line per epoch."),
    "augment_intensity": ("float", "Strength (0 to 1; 0 is off) of scanner-like changes of "
                                   "training batches, drawn per image: gamma, contrast, bias "
                                   "field, blur and noise."),
    "init_from": ("None, str, path-like or fitted skbrain model",
                  "Start from another fitted model's weights (pretraining, then fine-tuning): "
                  "a model or the path of one saved with ``save_model``. Tensors of equal name "
                  "and shape are copied; the head is rebuilt when the class count differs. A "
                  "fitted model given here is shared by ``clone``, not copied; saving needs a "
                  "path or None here (``set_params(init_from=None)`` after fitting)."),
    # The layer settings of the hand-made nets.
    "n_kernels": ("int", "Kernels of the first conv layer; later layers follow the "
                         "architecture ({layers})."),
    "n_kernels_2": ("int", 'Kernels of the second conv layer of ``"two-conv"``.'),
    "kernel_size": ("int", "Side of the square conv kernels."),
    "pool_size": ("int", "Max-pooling window after each conv layer (or block)."),
    "dropout": ("float", "Dropout before the final linear layer."),
    "batch_norm": ("bool", "Batch normalisation after each convolution."),
    "pool_first": ("bool", "Max-pool right after each layer's convolution, before batch norm "
                           "and ReLU: nearly the same network (see "
                           ":class:`skbrain.networks.ConvNet`) at 1.1-2.1x the training speed."),
}

_KWARGS_DOC = """\
    **kwargs
        ``module__*``, ``optimizer__*``, ``criterion__*``, ``iterator_train__*``,
        ``iterator_valid__*``, ``callbacks__*``, ``dataset__*`` and ``compile__*``
        parameters, routed to the skorch net."""

ATTRIBUTES_DOC = """\
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen in ``fit``, in the order of ``predict_proba``'s columns.
    n_features_in_ : int
        Channels of the training images (features, for 2-D input).
    image_shape_ : tuple of int
        ``(channels, height, width)`` of the training images.
    net_ : skorch.NeuralNetClassifier
        The fitted skorch net; ``history_`` and ``module_`` are shortcuts.
    device_ : str
        The device the network was trained on.
    batch_size_, lr_ : int, float
        The batch size and (peak) learning rate used, after ``"auto"``.
    amp_ : str or None
        The autocast dtype of training (``"bfloat16"``, ``"float16"``) or None.
    channels_last_ : bool
        Whether the network ran in channels-last memory order.
"""

_EXAMPLE = """\
    Examples
    --------
    >>> from skbrain import {name}
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(24, image_size=32, random_state=0)
    >>> clf = {name}(max_epochs=2, random_state=0).fit(data.data, data.target)
    >>> clf.predict_proba(data.data[:3]).shape
    (3, 2)
"""


def _training_defaults(**overrides):
    """The keyword-only training parameters of the base ``__init__``, in order."""
    signature = inspect.signature(BaseCNNClassifier.__init__)
    defaults = {name: p.default for name, p in signature.parameters.items()
                if p.kind is inspect.Parameter.KEYWORD_ONLY}
    unknown = set(overrides) - set(defaults)
    if unknown:
        raise TypeError(f"not training parameters: {sorted(unknown)}")
    return {**defaults, **overrides}


def estimator_init(own, training):
    """Write an ``__init__`` that stores its arguments unchanged, with an explicit signature.

    Parameters
    ----------
    own : dict
        The class's own parameters and defaults, positional-or-keyword.
    training : dict
        The keyword-only training parameters and defaults.

    Returns
    -------
    function
        ``__init__(self, <own>, *, <training>, **kwargs)``; its
        ``__signature__`` is what :func:`inspect.signature` and so
        :meth:`~sklearn.base.BaseEstimator.get_params` read.
    """
    kind = inspect.Parameter
    signature = inspect.Signature(
        [kind("self", kind.POSITIONAL_OR_KEYWORD)]
        + [kind(name, kind.POSITIONAL_OR_KEYWORD, default=d) for name, d in own.items()]
        + [kind(name, kind.KEYWORD_ONLY, default=d) for name, d in training.items()]
        + [kind("kwargs", kind.VAR_KEYWORD)]
    )

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        del arguments["self"]
        extra = arguments.pop("kwargs")
        type(self)._check_skorch_kwargs(extra)
        for key, value in {**arguments, **extra}.items():
            setattr(self, key, value)

    __init__.__signature__ = signature
    return __init__


def parameter_docs(init, skip=(), **context):
    """The numpydoc ``Parameters`` entries of an ``__init__``, from :data:`PARAMETER_DOCS`.

    Entries not in the table, or in ``skip``, are left to the class docstring.
    """
    import textwrap

    lines = []
    for name, parameter in inspect.signature(init).parameters.items():
        if name in PARAMETER_DOCS and name not in skip:
            kind, text = PARAMETER_DOCS[name]
            lines.append(f"    {name} : {kind}, default={parameter.default!r}")
            lines.append(textwrap.fill(text.format(**context), 79, initial_indent=" " * 8,
                                       subsequent_indent=" " * 8))
    return "\n".join(lines + [_KWARGS_DOC])


def document(cls, notes="", **context):
    """Complete a class docstring from the shared parts.

    The docstring holds its summary and, under ``Parameters``, the entries of
    its own parameters; this adds the entries of :data:`PARAMETER_DOCS` it
    does not describe itself, the attributes, ``notes`` and, unless it has
    its own, an example that fits the class on synthetic images.
    """
    doc = inspect.cleandoc(cls.__doc__)
    doc, _, examples = doc.partition("\nExamples\n--------\n")
    doc = doc.rstrip()
    if "\nParameters\n----------\n" not in doc:
        doc += "\n\nParameters\n----------"
    own = {name for name in inspect.signature(cls.__init__).parameters
           if f"\n{name} :" in doc}
    entries = inspect.cleandoc("\n" + parameter_docs(cls.__init__, skip=own, **context))
    example = (f"Examples\n--------\n{examples}" if examples
               else inspect.cleandoc(_EXAMPLE.format(name=cls.__name__)))
    parts = [doc.rstrip() + "\n" + entries, inspect.cleandoc(ATTRIBUTES_DOC)]
    parts += [inspect.cleandoc(notes)] if notes else []
    cls.__doc__ = "\n\n".join([*parts, example.rstrip()]) + "\n"
    return cls


def _conv_net(architecture, layers, pool_first, **extra):
    return ConvNet, {
        "channels": conv_channels(architecture, layers["n_kernels"], layers.get("n_kernels_2")),
        "kernel_size": layers["kernel_size"],
        "pool_size": layers["pool_size"],
        "dropout": layers["dropout"],
        **extra,
        **block_layout(architecture),
        "pool_first": pool_first,
    }


# What the hand-made nets add to the base's checks. Widths and kernel sizes
# are numbers the network rounds down, as before; ``None`` (the
# architecture's own value) only where CNNClassifier allows it.
_LAYER_CONSTRAINTS = {
    "n_kernels": [Interval(Real, 1, None, closed="left")],
    "n_kernels_2": [Interval(Real, 1, None, closed="left"), None],
    "kernel_size": [Interval(Real, 1, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "pool_first": ["boolean"],
}
_LAYER_EXPECTED = {
    "n_kernels": "a positive integer",
    "n_kernels_2": "a positive integer or None",
    "kernel_size": "a positive integer",
    "dropout": "in [0, 1)",
    "pool_first": "True or False",
}


class _ArchitectureNames:
    """The ``architecture`` error's expected values, read when the error is raised."""

    def __str__(self):
        return f"one of {', '.join(map(repr, ARCHITECTURE_SPECS))}"


class CNNClassifier(BaseCNNClassifier):
    """A hand-made CNN whose architecture is itself a hyperparameter.

    The study's five designs (and skbrain's ``"compact"`` net) are values of
    ``architecture``, so one search can compare them::

        RandomizedSearchCV(CNNClassifier(), {"architecture": ["wide", "deep", "pyramid"]})

    Parameters an architecture does not use (``n_kernels_2`` outside
    ``"two-conv"``) are accepted and ignored, so such a search never breaks.
    Layer settings left at ``None`` take the architecture's own value from
    :data:`skbrain.networks.ARCHITECTURE_DEFAULTS` (the defaults of the named
    class), so ``CNNClassifier(architecture="deep")`` is ``DeepCNNClassifier()``.

    Parameters
    ----------
    architecture : str, default="wide"
        The layer layout: one of :data:`skbrain.networks.ARCHITECTURES`.
    """

    _parameter_constraints = {
        **BaseCNNClassifier._parameter_constraints,
        **{name: [*constraints, None] for name, constraints in _LAYER_CONSTRAINTS.items()},
        "architecture": [StrOptions(ARCHITECTURE_SPECS.keys())],  # a live view
        "batch_norm": ["boolean"],
    }
    _parameter_expected = {
        **BaseCNNClassifier._parameter_expected,
        **{name: f"{text} or None" for name, text in _LAYER_EXPECTED.items()},
        "architecture": _ArchitectureNames(),
        "batch_norm": "True or False",
    }

    __init__ = estimator_init(
        {"architecture": "wide", "n_kernels": None, "n_kernels_2": None, "kernel_size": None,
         "pool_size": None, "dropout": None, "batch_norm": True, "pool_first": True},
        _training_defaults(lr=1e-2),
    )

    def _module_spec(self):
        spec = ARCHITECTURE_SPECS.get(self.architecture)
        if spec is None:
            conv_channels(self.architecture, 1)  # raises, naming the valid architectures
        preset = spec.defaults
        layers = {name: preset.get(name) if getattr(self, name) is None else getattr(self, name)
                  for name in ("n_kernels", "n_kernels_2", "kernel_size", "pool_size", "dropout")}
        return _conv_net(self.architecture, layers, self.pool_first, batch_norm=self.batch_norm)


document(CNNClassifier, layers="see ``architecture``")


class NamedCNNClassifier(BaseCNNClassifier):
    """A :class:`CNNClassifier` with its architecture fixed: the base of the named classes.

    ``class DeepCNNClassifier(NamedCNNClassifier, architecture="deep")`` takes
    its parameters and their defaults from the architecture's entry in
    :data:`skbrain.networks.ARCHITECTURE_SPECS`.
    """

    _parameter_constraints = {**BaseCNNClassifier._parameter_constraints, **_LAYER_CONSTRAINTS}
    _parameter_expected = {**BaseCNNClassifier._parameter_expected, **_LAYER_EXPECTED}

    def __init_subclass__(cls, *, architecture, **kwargs):
        super().__init_subclass__(**kwargs)
        spec = ARCHITECTURE_SPECS[architecture]
        cls._architecture = architecture
        cls.__init__ = estimator_init({**spec.defaults, "pool_first": True},
                                      _training_defaults(lr=1e-2))
        cls.__init__.__qualname__ = f"{cls.__name__}.__init__"
        document(cls, layers=spec.layers)

    def _module_spec(self):
        layers = {name: getattr(self, name) for name in
                  ARCHITECTURE_SPECS[self._architecture].defaults}
        return _conv_net(self._architecture, layers, self.pool_first)


class SimpleCNNClassifier(NamedCNNClassifier, architecture="simple"):
    """The study's baseline: one conv layer, pooling and a linear layer.

    """


class TwoConvCNNClassifier(NamedCNNClassifier, architecture="two-conv"):
    """Two conv layers, each with its own kernel count.

    """


class WideCNNClassifier(NamedCNNClassifier, architecture="wide"):
    """One wide conv layer: many large kernels (the study's tuned winner).

    The study tuned this net to 40 kernels of 7x7, pooling 3 and dropout 0.3;
    skbrain adds batch normalisation and ReLU after the convolution (the
    study's had no non-linearity) and pools globally.

    """


class DeepCNNClassifier(NamedCNNClassifier, architecture="deep"):
    """Three conv layers with an increasing kernel count (``k, 2k, 4k``).

    """


class PyramidCNNClassifier(NamedCNNClassifier, architecture="pyramid"):
    """Three conv layers with a decreasing kernel count (``k, k/2, k/4``).

    """


class CompactCNNClassifier(NamedCNNClassifier, architecture="compact"):
    """A small modern CNN: four blocks of 3x3 convolutions, batch norm and ReLU.

    Not one of the study's designs: skbrain adds it as the from-scratch
    network that a VGG-style stack of small kernels makes possible (kernel
    counts ``k, 2k, 4k, 8k``, global pooling). The first block, at full
    resolution, has one convolution and the other three have two
    (``module__first_block_convs=2`` gives the first block its second).

    """
