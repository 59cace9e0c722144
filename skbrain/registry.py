"""The names the ``skbrain`` command accepts for its models, and what each builds.

One table, :data:`MODELS`, maps every name to a :class:`ModelSpec`: the
factory that builds a fresh, unfitted estimator and a one-line description.
It is read from the two catalogues, so a model registered there is listed
here: the hand-made architectures of :data:`skbrain.networks.ARCHITECTURE_SPECS`
and the pretrained families of :data:`skbrain.backbones.FAMILIES` (a
torchvision name with ``-`` for ``_``).
The command line (``skbrain models``, ``train``, ``compare``) and notebooks use
the same names through :func:`get_estimator`:

================================  =============================================
name                              estimator
================================  =============================================
``simple``, ``two-conv``,         the hand-made CNNs of :mod:`skbrain.classifiers`
``wide``, ``deep``, ``pyramid``,
``compact``
``efficientnet-b0`` ... ``-b7``   ``EfficientNetClassifier(variant=...)``
``resnet18`` ... ``resnet152``    ``ResNetClassifier(depth=...)``
``vgg11`` ... ``vgg19``,          ``VGGClassifier(depth=..., batch_norm=...)``
``vgg11-bn`` ... ``vgg19-bn``
``timm:<name>``                   ``TimmClassifier(model_name=<name>)``, any
                                  model of ``timm.list_models()``
================================  =============================================

The pretrained families' parameter counts are recorded in their catalogue,
and torchvision's and timm's model zoos are imported only when a pretrained
network is built, so listing the models (``skbrain models``) never loads them.
Names are matched case-insensitively and ``_`` may stand for ``-``
(``two_conv``, ``vgg16_bn``).
"""

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from ._live import LiveTable
from .backbones import FAMILIES
from .networks import ARCHITECTURE_SPECS, count_parameters

__all__ = [
    "MODELS",
    "ModelSpec",
    "build_module",
    "get_estimator",
    "get_spec",
    "list_models",
    "model_parameter_count",
    "normalize_model_name",
    "validate_params",
]

TIMM_PREFIX = "timm:"


@dataclass(frozen=True)
class ModelSpec:
    """How one model name is built.

    Attributes
    ----------
    name : str
        The name the command line accepts.
    family : str
        ``"hand-made"`` or the pretrained family (``"efficientnet"``,
        ``"resnet"``, ``"vgg"``, ``"timm"``).
    factory : callable
        ``factory(**params)`` returns a new unfitted estimator.
    description : str
        One line for ``skbrain models``.
    n_parameters : int or None
        Parameters as trained with the defaults (3 channels, 2 classes), where
        the catalogue records them; None means count by building.

    Examples
    --------
    >>> spec = get_spec("deep")
    >>> spec.family, spec.estimator_name
    ('hand-made', 'DeepCNNClassifier')
    """

    name: str
    family: str
    factory: Callable
    description: str
    n_parameters: int | None = None

    @property
    def estimator_name(self):
        """Name of the estimator class the factory builds."""
        return getattr(self.factory, "estimator_name", getattr(self.factory, "__name__", "?"))


def _hand_made(architecture, class_name):
    def factory(**params):
        from . import classifiers

        if class_name is None:
            return classifiers.CNNClassifier(architecture=architecture, **params)
        return getattr(classifiers, class_name)(**params)

    factory.estimator_name = class_name or "CNNClassifier"
    return factory


def _pretrained(class_name, **fixed):
    def factory(**params):
        from . import pretrained

        return getattr(pretrained, class_name)(**{**fixed, **params})

    factory.estimator_name = class_name
    return factory


def _build_table():
    specs = [
        ModelSpec(name, "hand-made", _hand_made(name, spec.estimator), spec.description)
        for name, spec in ARCHITECTURE_SPECS.items()
    ]
    specs += [
        ModelSpec(arch.replace("_", "-"), family.name,
                  _pretrained(family.estimator, **variant.params),
                  f"{variant.title}, ImageNet weights, new head", variant.n_parameters)
        for family in FAMILIES.values() for arch, variant in family.variants.items()
    ]
    return {spec.name: spec for spec in specs}


MODELS = LiveTable(_build_table)
"""dict of str to :class:`ModelSpec`: every fixed model name, in display order.

A dict-like view rebuilt from the registries at each use, so architectures and
families registered after import are in it.

``timm:<name>`` names are not listed here; :func:`get_estimator` builds them.
"""


def _timm_spec(name):
    model_name = name[len(TIMM_PREFIX):]
    if not model_name:
        raise ValueError("timm: needs a model name after the colon, e.g. timm:resnet18")
    return ModelSpec(
        name, "timm", _pretrained("TimmClassifier", model_name=model_name),
        f"timm's {model_name}",
    )


def normalize_model_name(name):
    """Return the canonical spelling of a model name, or raise ``ValueError``.

    Parameters
    ----------
    name : str
        A model name, in any case, with ``_`` or ``-``.

    Returns
    -------
    str

    Examples
    --------
    >>> normalize_model_name("Two_Conv")
    'two-conv'
    >>> normalize_model_name("timm:convnext_tiny")
    'timm:convnext_tiny'
    """
    if not isinstance(name, str):
        raise ValueError(f"a model name must be a string; got {name!r}")
    stripped = name.strip()
    if stripped.lower().startswith(TIMM_PREFIX):
        # timm's own names use underscores; keep them as given.
        return TIMM_PREFIX + stripped[len(TIMM_PREFIX):]
    key = stripped.lower().replace("_", "-")
    names = list(MODELS)
    if key in names:
        return key
    valid = ", ".join(names + [TIMM_PREFIX + "<name>"])
    close = difflib.get_close_matches(key, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"unknown model {name!r}{hint}; valid names: {valid}")


def list_models(*, available_only=False):
    """Names of the models :func:`get_estimator` builds, in display order.

    Parameters
    ----------
    available_only : bool, default=False
        Kept for compatibility: :mod:`skbrain.pretrained` is always there,
        so it lists the same names.

    Returns
    -------
    list of str
        The fixed names; ``"timm:<name>"`` stands for every timm model.

    Examples
    --------
    >>> list_models()[:6]
    ['simple', 'two-conv', 'wide', 'deep', 'pyramid', 'compact']
    >>> "resnet18" in list_models() and "timm:<name>" in list_models()
    True
    """
    return [*MODELS, TIMM_PREFIX + "<name>"]


def get_spec(name):
    """Return the :class:`ModelSpec` of a model name (``timm:<name>`` included).

    Examples
    --------
    >>> get_spec("resnet50").family
    'resnet'
    """
    name = normalize_model_name(name)
    if name.startswith(TIMM_PREFIX):
        return _timm_spec(name)
    return MODELS[name]


def get_estimator(name, **params):
    """Build a new, unfitted estimator from its model name.

    Parameters
    ----------
    name : str
        One of :func:`list_models`, or ``"timm:<timm model name>"``.
    **params
        Estimator parameters (``max_epochs=5``, ``lr=3e-4``, ``module__...``).

    Returns
    -------
    estimator

    Raises
    ------
    ValueError
        The name is unknown (the message lists the valid names), or a
        parameter is not one of the estimator's.

    Examples
    --------
    >>> clf = get_estimator("wide", max_epochs=3)
    >>> type(clf).__name__, clf.max_epochs
    ('WideCNNClassifier', 3)
    >>> get_estimator("wyde")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown model 'wyde' (did you mean 'wide'?); valid names: simple, ...
    """
    spec = get_spec(name)
    try:
        return spec.factory(**params)
    except TypeError as exc:
        # Estimators reject unknown keyword arguments with a TypeError; to the
        # caller that is a bad value, named with the model.
        raise ValueError(f"{spec.name}: {exc}") from None


def build_module(estimator, *, in_channels=3, n_classes=2, device="meta"):
    """Build the network an estimator would train, without training it.

    A thin wrapper of the estimator's own ``build_module`` method (the one
    way a network is built), on the ``"meta"`` device by default: no memory is
    allocated and nothing is initialised, so even VGG-19 builds in
    milliseconds; invalid hyperparameters raise here as they would in ``fit``.

    Parameters
    ----------
    estimator : skbrain estimator
        Unfitted is fine.
    in_channels : int, default=3
    n_classes : int, default=2
    device : str, default="meta"

    Returns
    -------
    torch.nn.Module

    Examples
    --------
    >>> build_module(get_estimator("simple"), in_channels=1).features[0]
    Conv2d(1, 32, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2), bias=False)
    """
    return estimator.build_module(in_channels=in_channels, n_classes=n_classes, device=device)


def validate_params(estimator):
    """Check an unfitted estimator's hyperparameters, without data and within a second.

    Runs the estimator's declared parameter constraints (the checks ``fit``
    starts with), then builds its network on the ``"meta"`` device, which
    catches what only the network can tell. The command line runs it before
    it decodes any image.

    Parameters
    ----------
    estimator : skbrain estimator

    Raises
    ------
    ValueError
        Naming the first bad parameter and what it must be.

    Examples
    --------
    >>> validate_params(get_estimator("wide", dropout=0.5))
    >>> validate_params(get_estimator("wide", dropout=1.5))
    Traceback (most recent call last):
    ...
    sklearn.utils._param_validation.InvalidParameterError: dropout must be in [0, 1); got 1.5
    """
    estimator._validate_params()
    build_module(estimator)


def model_parameter_count(name, *, in_channels=3, n_classes=2, **params):
    """Count the parameters of a named model as it would be trained.

    Pretrained models are built with ``pretrained=False``: the count is the
    same and no weights are downloaded. The hand-made networks pool globally,
    so the count does not depend on the image size.

    Parameters
    ----------
    name : str
        A model name.
    in_channels : int, default=3
    n_classes : int, default=2
    **params
        Estimator parameters that change the network (``n_kernels=64``).

    Returns
    -------
    int

    Examples
    --------
    >>> model_parameter_count("simple")
    2594
    """
    spec = get_spec(name)
    if spec.n_parameters is not None and not params and (in_channels, n_classes) == (3, 2):
        return spec.n_parameters  # recorded in the catalogue: no model zoo to import
    if spec.family != "hand-made":
        params.setdefault("pretrained", False)
    estimator = get_estimator(spec.name, **params)
    try:
        module = build_module(estimator, in_channels=in_channels, n_classes=n_classes)
    except (NotImplementedError, RuntimeError, TypeError):
        # Some third-party constructors touch real data while building.
        module = build_module(estimator, in_channels=in_channels, n_classes=n_classes,
                              device="cpu")
    return count_parameters(module)
