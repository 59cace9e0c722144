"""The hand-made convolutional networks, as plain :class:`torch.nn.Module` s.

One configurable stack, :class:`ConvNet`, builds every hand-made network. Each
architecture is registered once, below, with :func:`register_architecture`:
its layer widths, its block layout, the defaults of its estimator, its search
ranges and its one-line description. The estimators
(:mod:`skbrain.classifiers`), the model names (:mod:`skbrain.registry`), the
search spaces (:mod:`skbrain.search`), the documentation tables and the
parametrised tests all read :data:`ARCHITECTURE_SPECS`; a new architecture is
one registration here (plus its test).

{table}

Each conv layer is ``Conv2d -> MaxPool2d -> BatchNorm2d -> ReLU`` (the study's
nets had no non-linearity; batch norm and ReLU are what made them train
reliably here). Pooling comes first because it is cheaper there: the
normalisation and activation then touch ``pool_size**2`` times fewer pixels,
and the function is nearly the same (``pool_first=False`` gives the classic
``Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d``). The head pools globally
(average and max, concatenated), so a network accepts any input size, drops out
and maps to one logit per class.
"""

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from ._device import REFERENCE_BATCH_SIZE
from ._live import LiveNames, LiveTable

__all__ = [
    "ARCHITECTURES",
    "ARCHITECTURE_DEFAULTS",
    "ARCHITECTURE_SPECS",
    "ArchitectureSpec",
    "ConvNet",
    "block_layout",
    "conv_channels",
    "count_parameters",
    "register_architecture",
]


@dataclass(frozen=True)
class ArchitectureSpec:
    """One hand-made architecture, described once.

    Attributes
    ----------
    name : str
        The value of ``CNNClassifier(architecture=...)`` and the model name.
    widths : callable
        ``widths(n_kernels, n_kernels_2)`` returns the kernel count of each
        conv layer (of each block when ``convs_per_block`` > 1).
    defaults : dict
        Layer settings of its estimator: ``n_kernels``, ``kernel_size``,
        ``pool_size``, ``dropout`` (and ``n_kernels_2`` where it is used).
    description : str
        One line, for ``skbrain models``.
    layers : str
        The layer widths in words, for the documentation table.
    estimator : str or None
        Its named estimator in :mod:`skbrain.classifiers`; ``None`` means
        ``CNNClassifier(architecture=name)``.
    study : bool
        One of the study's designs (the default search over ``architecture``).
    convs_per_block, first_block_convs : int
        See :class:`ConvNet`.
    residual : bool
        Residual blocks (see :class:`ConvNet`).
    search : dict
        Its search ranges of ``n_kernels``, ``kernel_size`` and
        ``pool_size``: a tuple ``(low, high)`` is an integer range (both
        included), a list the values to choose from.
    batch_size : int
        The batch its training defaults were chosen at: what
        ``batch_size="auto"`` means on the CPU, and what an automatic CUDA
        batch and its learning rate are scaled from
        (:func:`skbrain._device.training_defaults`).
    """

    name: str
    widths: Callable
    defaults: dict
    description: str
    layers: str
    estimator: str | None = None
    study: bool = False
    convs_per_block: int = 1
    first_block_convs: int = 1
    residual: bool = False
    search: dict = field(default_factory=lambda: {
        "n_kernels": (25, 75), "kernel_size": [1, 3, 5, 7], "pool_size": (2, 8),
    })
    batch_size: int = REFERENCE_BATCH_SIZE


#: Every hand-made architecture, keyed by name, in display order.
ARCHITECTURE_SPECS = {}


def register_architecture(name, **spec):
    """Register the decorated ``widths(k, k2)`` function as an architecture.

    The keyword arguments are the other fields of :class:`ArchitectureSpec`.
    Every reader (``CNNClassifier(architecture=name)``,
    :func:`skbrain.registry.get_estimator`, ``skbrain models``, the search
    spaces) reads the registry when it is called, so an architecture
    registered after import is found everywhere.
    """

    def register(widths):
        ARCHITECTURE_SPECS[name] = ArchitectureSpec(name=name, widths=widths, **spec)
        return widths

    return register


@register_architecture(
    "simple", defaults={"n_kernels": 32, "kernel_size": 5, "pool_size": 4, "dropout": 0.0},
    description="the study's baseline: one conv layer", layers="``[k]``",
    estimator="SimpleCNNClassifier", study=True,
)
def _one_layer(k, k2):
    return [k]


@register_architecture(
    "two-conv", defaults={"n_kernels": 32, "n_kernels_2": 64, "kernel_size": 5, "pool_size": 3,
                          "dropout": 0.3},
    description="two conv layers", layers="``[k, n_kernels_2]``",
    estimator="TwoConvCNNClassifier", study=True,
)
def _two_layers(k, k2):
    return [k, int(k2) if k2 is not None else 2 * k]


# The study tuned 40 kernels of 7x7 at a batch of 6; 11x11 kernels at a batch of 8
# cross-validated 0.021 +- 0.010 higher in F1 than 7x7 at 16 (15 folds inside the 253's
# training parts; benchmarks/README.md, "The wide net's kernel and batch").
@register_architecture(
    "wide", defaults={"n_kernels": 40, "kernel_size": 11, "pool_size": 3, "dropout": 0.3},
    description="one wide conv layer of 11x11 kernels (the study's winner, 7x7 there)",
    layers="``[k]`` with a large kernel", estimator="WideCNNClassifier", study=True,
    batch_size=8,
)
def _wide_layer(k, k2):
    return [k]


@register_architecture(
    "deep", defaults={"n_kernels": 16, "kernel_size": 3, "pool_size": 2, "dropout": 0.3},
    description="three conv layers, k, 2k, 4k kernels", layers="``[k, 2k, 4k]`` (increasing)",
    estimator="DeepCNNClassifier", study=True,
)
def _increasing(k, k2):
    return [k, 2 * k, 4 * k]


@register_architecture(
    "pyramid", defaults={"n_kernels": 64, "kernel_size": 3, "pool_size": 2, "dropout": 0.3},
    description="three conv layers, k, k/2, k/4 kernels",
    layers="``[k, k/2, k/4]`` (decreasing)", estimator="PyramidCNNClassifier", study=True,
)
def _decreasing(k, k2):
    return [k, max(1, k // 2), max(1, k // 4)]


# The compact net pools after pairs of convolutions, except at full
# resolution, where a convolution costs the most: there it has one, which
# trains it 1.4x faster with cross-validated F1 within the seed-to-seed
# spread of two (benchmarks/README.md). Four conv blocks of k to 8k kernels:
# the study's 25-75 would give 10-35 million weights, so its search keeps
# small k and the small kernels it is built around; four pooling steps of 5
# or more would shrink a 150-pixel image to one pixel.
@register_architecture(
    "compact", defaults={"n_kernels": 16, "kernel_size": 3, "pool_size": 2, "dropout": 0.3},
    description="four blocks of 3x3 convolutions, k to 8k kernels",
    layers="``[k, 2k, 4k, 8k]``, 3x3, two convs per block (one in the first)",
    estimator="CompactCNNClassifier", convs_per_block=2, first_block_convs=1,
    search={"n_kernels": (8, 48), "kernel_size": [3, 5], "pool_size": (2, 4)},
)
def _doubling_blocks(k, k2):
    return [k, 2 * k, 4 * k, 8 * k]


# The compact net with residual blocks: a small ResNet. Cross-validated F1
# 0.016 +- 0.009 under the compact net's, less than the seed-to-seed spread
# (benchmarks/README.md), so it is offered by name but is no default and has
# no named class.
@register_architecture(
    "residual", defaults={"n_kernels": 16, "kernel_size": 3, "pool_size": 2, "dropout": 0.3},
    description="the compact net with residual blocks (a small ResNet)",
    layers="as ``compact``, each two-conv block residual", convs_per_block=2,
    first_block_convs=1, residual=True,
    search={"n_kernels": (8, 48), "kernel_size": [3, 5], "pool_size": (2, 4)},
)
def _residual_blocks(k, k2):
    return [k, 2 * k, 4 * k, 8 * k]


#: The architecture names, in display order (a tuple-like view, read at each use).
ARCHITECTURES = LiveNames(lambda: ARCHITECTURE_SPECS)

#: Each architecture's own layer settings: the defaults of its named estimator
#: (``WideCNNClassifier`` ...), and what ``CNNClassifier`` uses for a setting
#: left at ``None``, so a search over ``architecture`` alone compares the
#: designs as intended rather than one shared kernel setting (a dict-like
#: view, read at each use).
ARCHITECTURE_DEFAULTS = LiveTable(
    lambda: {name: dict(spec.defaults) for name, spec in ARCHITECTURE_SPECS.items()})


def _spec(architecture):
    if architecture not in ARCHITECTURE_SPECS:
        raise ValueError(
            f"architecture must be one of {', '.join(map(repr, ARCHITECTURE_SPECS))}; "
            f"got {architecture!r}"
        )
    return ARCHITECTURE_SPECS[architecture]


def architecture_table():
    """The architectures as a reStructuredText table (for the documentation).

    Examples
    --------
    >>> print(architecture_table().splitlines()[1])  # doctest: +NORMALIZE_WHITESPACE
    architecture  conv layers (``k`` = ``n_kernels``)  estimator
    """
    rows = [("architecture", "conv layers (``k`` = ``n_kernels``)", "estimator")]
    rows += [(f"``{spec.name}``", spec.layers,
              f":class:`~skbrain.{spec.estimator}`" if spec.estimator
              else f'``CNNClassifier("{spec.name}")``')
             for spec in ARCHITECTURE_SPECS.values()]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    rule = "  ".join("=" * w for w in widths)
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    return "\n".join([rule, lines[0], rule, *lines[1:], rule])


def block_layout(architecture):
    """How an architecture groups its convolutions into blocks between poolings.

    Parameters
    ----------
    architecture : str
        One of :data:`ARCHITECTURES`.

    Returns
    -------
    dict
        ``convs_per_block`` and ``first_block_convs`` for :class:`ConvNet`
        (and ``residual=True`` for a residual architecture). The study's
        designs pool after every convolution. The compact net pools after
        pairs of convolutions, except at full resolution, where it has one.

    Examples
    --------
    >>> block_layout("compact")
    {'convs_per_block': 2, 'first_block_convs': 1}
    >>> block_layout("deep")
    {'convs_per_block': 1, 'first_block_convs': 1}
    """
    spec = _spec(architecture)
    layout = {"convs_per_block": spec.convs_per_block,
              "first_block_convs": spec.first_block_convs}
    if spec.residual:
        layout["residual"] = True
    return layout


def conv_channels(architecture, n_kernels, n_kernels_2=None):
    """Expand an architecture name into the kernel count of each conv layer.

    Parameters
    ----------
    architecture : str
        One of :data:`ARCHITECTURES`.
    n_kernels : int
        Kernel count of the first conv layer.
    n_kernels_2 : int, default=None
        Kernel count of the second layer of ``"two-conv"``; ``None`` means
        ``2 * n_kernels``. Ignored by the other architectures.

    Returns
    -------
    list of int
        One entry per conv layer (per conv block for ``"compact"``).

    Examples
    --------
    >>> conv_channels("deep", 16)
    [16, 32, 64]
    >>> conv_channels("pyramid", 64)
    [64, 32, 16]
    >>> conv_channels("two-conv", 32, n_kernels_2=48)
    [32, 48]
    """
    spec = _spec(architecture)
    k = int(n_kernels)
    if k < 1:
        raise ValueError(f"n_kernels must be a positive integer; got {n_kernels!r}")
    return spec.widths(k, n_kernels_2)


class _ClampedMaxPool(nn.Module):
    """Max pooling whose window shrinks to fit inputs smaller than it.

    Lets a network with ``pool_size=8`` still run on tiny test images and on
    the one-row "images" that 2-D tabular input becomes.
    """

    def __init__(self, pool_size):
        super().__init__()
        self.pool_size = int(pool_size)

    def forward(self, x):
        k = self.pool_size
        kh, kw = min(k, x.shape[-2]), min(k, x.shape[-1])
        if kh == kw == 1:
            return x
        return F.max_pool2d(x, (kh, kw))

    def extra_repr(self):
        return f"pool_size={self.pool_size}"


def _conv_bn_relu(in_channels, out_channels, kernel_size, batch_norm, pool=None):
    layers = [
        nn.Conv2d(
            in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=not batch_norm
        )
    ]
    if pool is not None:
        layers.append(pool)
    if batch_norm:
        layers.append(nn.BatchNorm2d(out_channels))
    layers.append(nn.ReLU(inplace=True))
    return layers


class _ResidualBlock(nn.Module):
    """Convolutions whose output is added to the block's input, then ReLU.

    The input goes through a 1x1 convolution (and batch norm) where the
    channel count changes, unchanged otherwise.
    """

    def __init__(self, in_channels, out_channels, kernel_size, batch_norm, n_convs):
        super().__init__()
        layers = []
        previous = in_channels
        for _ in range(n_convs):
            layers += _conv_bn_relu(previous, out_channels, kernel_size, batch_norm)
            previous = out_channels
        self.body = nn.Sequential(*layers[:-1])  # the ReLU comes after the sum
        self.shortcut = nn.Identity()
        if in_channels != out_channels:
            shortcut = [nn.Conv2d(in_channels, out_channels, 1, bias=not batch_norm)]
            if batch_norm:
                shortcut.append(nn.BatchNorm2d(out_channels))
            self.shortcut = nn.Sequential(*shortcut)

    def forward(self, x):
        return F.relu(self.body(x) + self.shortcut(x), inplace=True)


class ConvNet(nn.Module):
    """A stack of conv layers with a global-pooling classification head.

    Parameters
    ----------
    in_channels : int, default=3
        Channels of the input images.
    n_classes : int, default=2
        Number of output logits.
    channels : sequence of int, default=(40,)
        Kernel count of each conv layer (of each block with ``convs_per_block``
        > 1); see :func:`conv_channels`.
    kernel_size : int, default=7
        Side of the square kernels (odd sizes keep the image centred).
    pool_size : int, default=3
        Max-pooling window after each layer (or block); 1 disables it.
    dropout : float, default=0.3
        Dropout probability before the final linear layer.
    batch_norm : bool, default=True
        Batch normalisation after each convolution.
    convs_per_block : int, default=1
        Convolutions before each pooling step.
    first_block_convs : int or None, default=None
        Convolutions of the first block, at full resolution, where each one
        costs the most; None means ``convs_per_block``. The compact net has
        one there instead of two (see :func:`block_layout`);
        ``module__first_block_convs=2`` gives it back the second.
    residual : bool, default=False
        Make each block of two or more convolutions a residual block: its
        input, projected by a 1x1 convolution where the width changes, is
        added before the last ReLU, and the block pools after the sum
        (``pool_first`` applies to single-convolution blocks only). For the
        compact net (with ``first_block_convs=1``) it cross-validated 0.016
        +- 0.009 lower in F1 (``benchmarks/README.md``), so no estimator
        turns it on.
    global_pool : {"catavgmax", "avg", "max"}, default="catavgmax"
        How the last feature map is reduced to one vector: ``"catavgmax"``
        concatenates its average and its maximum (timm's name).
        ``"avgmax"``, the former name, is deprecated.
    pool_first : bool, default=True
        Max-pool right after the (last) convolution of each layer, before
        batch norm and ReLU. ReLU commutes with max pooling and batch norm
        nearly does (exactly when its scale is positive and its statistics
        are the same), so the network computes almost the same function, but
        the memory-bound normalisation and activation passes run on
        ``pool_size**2`` times fewer pixels: 1.1-2.1x faster training, with
        cross-validated F1 unchanged on average over the six architectures
        (``benchmarks/README.md``). False gives the classic order.
    channels_last : bool, default=True
        Keep weights and activations in NHWC memory order, which oneDNN
        convolves, normalises and pools faster on the CPU: 1.2-1.7x training
        throughput for the six architectures on this project's CPU (see
        ``benchmarks/bench_speed.py``). On CUDA it measured 1.2-3.3x slower
        (``benchmarks/gpu_check.py``), so the estimators turn it on for the
        CPU only. Results match NCHW up to float rounding.

    Examples
    --------
    >>> import torch
    >>> net = ConvNet(in_channels=1, channels=[8, 16], kernel_size=3, pool_size=2)
    >>> net(torch.zeros(4, 1, 32, 32)).shape
    torch.Size([4, 2])
    """

    def __init__(
        self,
        in_channels=3,
        n_classes=2,
        channels=(40,),
        kernel_size=7,
        pool_size=3,
        dropout=0.3,
        batch_norm=True,
        convs_per_block=1,
        first_block_convs=None,
        residual=False,
        global_pool="catavgmax",
        pool_first=True,
        channels_last=True,
    ):
        super().__init__()
        if global_pool == "avgmax":
            warnings.warn(
                'global_pool="avgmax" is deprecated and will be removed: it was renamed '
                '"catavgmax", timm\'s name for it',
                FutureWarning,
                stacklevel=2,
            )
            global_pool = "catavgmax"
        if global_pool not in ("catavgmax", "avg", "max"):
            raise ValueError(
                f"global_pool must be 'catavgmax', 'avg' or 'max'; got {global_pool!r}"
            )
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1); got {dropout!r}")
        kernel_size = int(kernel_size)
        if kernel_size < 1:
            raise ValueError(f"kernel_size must be a positive integer; got {kernel_size!r}")
        layers = []
        previous = int(in_channels)
        pooling = int(pool_size) > 1
        per_block = int(convs_per_block)
        first = per_block if first_block_convs is None else int(first_block_convs)
        if per_block < 1 or first < 1:
            raise ValueError(
                "convs_per_block and first_block_convs must be positive integers; got "
                f"{convs_per_block!r} and {first_block_convs!r}"
            )
        for block, width in enumerate(channels):
            width = int(width)
            n_convs = first if block == 0 else per_block
            if residual and n_convs > 1:
                layers.append(_ResidualBlock(previous, width, kernel_size, batch_norm, n_convs))
                pool_after = pooling
            else:
                for i in range(n_convs):
                    early = pooling and pool_first and i == n_convs - 1
                    layers += _conv_bn_relu(previous, width, kernel_size, batch_norm,
                                            _ClampedMaxPool(pool_size) if early else None)
                    previous = width
                pool_after = pooling and not pool_first
            if pool_after:
                layers.append(_ClampedMaxPool(pool_size))
            previous = width
        self.features = nn.Sequential(*layers)
        self.global_pool = global_pool
        n_pooled = previous * (2 if global_pool == "catavgmax" else 1)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(n_pooled, int(n_classes)))
        self.channels_last = bool(channels_last)
        if self.channels_last:
            self.features.to(memory_format=torch.channels_last)

    def pool(self, x):
        """Reduce feature maps ``(n, c, h, w)`` to vectors ``(n, c)`` or ``(n, 2c)``."""
        if self.global_pool == "avg":
            return x.mean(dim=(2, 3))
        if self.global_pool == "max":
            return x.amax(dim=(2, 3))
        return torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)

    def forward(self, x):
        if self.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.head(self.pool(self.features(x)))


def count_parameters(module, trainable_only=False):
    """Count the parameters of a module.

    Examples
    --------
    >>> count_parameters(ConvNet(in_channels=1, channels=[4], kernel_size=3))
    62
    """
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


__doc__ = __doc__.replace("{table}", architecture_table())
