"""The public hand-made CNN estimators.

Each class only names its network and its defaults; training, devices,
seeding and the sklearn contract live in :class:`skbrain._base.BaseCNNClassifier`.
The ``__init__`` signatures are spelled out in full because sklearn reads the
hyperparameters from them.
"""

from ._base import BaseCNNClassifier
from .networks import ARCHITECTURE_DEFAULTS, ConvNet, block_layout, conv_channels

__all__ = [
    "CNNClassifier",
    "SimpleCNNClassifier",
    "TwoConvCNNClassifier",
    "WideCNNClassifier",
    "DeepCNNClassifier",
    "PyramidCNNClassifier",
    "CompactCNNClassifier",
]

_TRAINING_PARAMETERS = """\
    lr : float, default=1e-2
        Peak learning rate (of the one-cycle schedule).
    max_epochs : int, default=30
        Passes over the training images.
    batch_size : int, default=16
        Images per optimisation step.
    optimizer : {"adamw", "adam", "sgd", "rmsprop"} or optimizer class, default="adamw"
        The torch optimizer; further arguments go through ``optimizer__*``.
    weight_decay : float, default=1e-4
        Weight decay of the optimizer.
    lr_schedule : {"onecycle", "cosine", None}, default="onecycle"
        Learning-rate schedule over the fit.
    augment : bool, default=True
        Random flips, small rotations, zooms, shifts and intensity changes of
        training batches only.
    early_stopping : bool or int, default=False
        Hold out ``validation_fraction`` of the training images and stop when
        the validation loss stalls for this many epochs (``True``: 5), keeping
        the best weights. Off by default: small data sets need every image.
    validation_fraction : float, default=0.1
        Share of training images held out when ``early_stopping`` is on.
    class_weight : None, "balanced" or dict, default=None
        Loss weight of each class, keyed by the original labels.
    tta : int, default=0
        Test-time augmentation: ``predict_proba`` averages the image and this
        many flipped/rotated views (0 to 7).
    amp : "auto" or bool, default="auto"
        Mixed precision on CUDA (``"auto"``: on when training on CUDA).
    deterministic : bool, default=False
        Deterministic algorithms in torch and cuDNN during ``fit``.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks, e.g. ``skorch.callbacks.TensorBoard``.
    device : str, default="auto"
        ``"auto"`` picks CUDA, then MPS, then the CPU; or ``"cpu"``,
        ``"cuda"``, ``"cuda:1"``...
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, augmentation and splits.
    verbose : int, default=0
        1 prints one line per epoch.
    **kwargs
        ``module__*``, ``optimizer__*``, ``criterion__*``, ``iterator_train__*``,
        ``iterator_valid__*``, ``callbacks__*`` and ``dataset__*`` parameters,
        routed to the skorch net."""

_POOL_FIRST_PARAMETER = """\
    pool_first : bool, default=True
        Max-pool right after each layer's convolution, before batch norm and
        ReLU: nearly the same network (see :class:`skbrain.networks.ConvNet`)
        at 1.1-2.1x the training speed."""

_ATTRIBUTES = """\
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
"""

# What every estimator's docstring shares, filled in after each class.
_DOC_PARTS = {
    "training": _TRAINING_PARAMETERS.strip(),
    "pool_first": _POOL_FIRST_PARAMETER.strip(),
    "attributes": _ATTRIBUTES.strip(),
}


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
    architecture : {"simple", "two-conv", "wide", "deep", "pyramid", "compact"}, default="wide"
        The layer layout; see :mod:`skbrain.networks`.
    n_kernels : int, default=None
        Kernels of the first conv layer (later layers follow the architecture).
    n_kernels_2 : int, default=None
        Kernels of the second layer of ``"two-conv"``.
    kernel_size : int, default=None
        Side of the square conv kernels.
    pool_size : int, default=None
        Max-pooling window after each conv layer.
    dropout : float, default=None
        Dropout before the final linear layer.
    batch_norm : bool, default=True
        Batch normalisation after each convolution.
    %(pool_first)s
    %(training)s

    %(attributes)s

    Examples
    --------
    >>> from skbrain import CNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(24, image_size=32, random_state=0)
    >>> clf = CNNClassifier(max_epochs=2, random_state=0).fit(data.data, data.target)
    >>> clf.predict_proba(data.data[:3]).shape
    (3, 2)
    """

    def __init__(
        self,
        architecture="wide",
        n_kernels=None,
        n_kernels_2=None,
        kernel_size=None,
        pool_size=None,
        dropout=None,
        batch_norm=True,
        pool_first=True,
        *,
        lr=1e-2,
        max_epochs=30,
        batch_size=16,
        optimizer="adamw",
        weight_decay=1e-4,
        lr_schedule="onecycle",
        augment=True,
        early_stopping=False,
        validation_fraction=0.1,
        class_weight=None,
        tta=0,
        amp="auto",
        deterministic=False,
        callbacks=None,
        device="auto",
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        self.architecture = architecture
        self.n_kernels = n_kernels
        self.n_kernels_2 = n_kernels_2
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.pool_first = pool_first
        super().__init__(
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            optimizer=optimizer,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            augment=augment,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            class_weight=class_weight,
            tta=tta,
            amp=amp,
            deterministic=deterministic,
            callbacks=callbacks,
            device=device,
            random_state=random_state,
            verbose=verbose,
            **kwargs,
        )

    def _module_spec(self):
        if self.architecture not in ARCHITECTURE_DEFAULTS:
            conv_channels(self.architecture, 1)  # raises, naming the valid architectures
        preset = ARCHITECTURE_DEFAULTS[self.architecture]

        def value(name):
            given = getattr(self, name)
            return preset.get(name) if given is None else given

        return ConvNet, {
            "channels": conv_channels(self.architecture, value("n_kernels"), value("n_kernels_2")),
            "kernel_size": value("kernel_size"),
            "pool_size": value("pool_size"),
            "dropout": value("dropout"),
            "batch_norm": self.batch_norm,
            **block_layout(self.architecture),
            "pool_first": self.pool_first,
        }


CNNClassifier.__doc__ = CNNClassifier.__doc__ % _DOC_PARTS


class SimpleCNNClassifier(BaseCNNClassifier):
    """The study's baseline: one conv layer, pooling and a linear layer.

    Parameters
    ----------
    n_kernels : int, default=32
        Kernels of the conv layer.
    kernel_size : int, default=5
        Side of the square kernels.
    pool_size : int, default=4
        Max-pooling window.
    dropout : float, default=0.0
        Dropout before the linear layer.
    %(pool_first)s
    %(training)s

    %(attributes)s

    Examples
    --------
    >>> from skbrain import SimpleCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(24, image_size=32, random_state=0)
    >>> clf = SimpleCNNClassifier(max_epochs=2, random_state=0).fit(data.data, data.target)
    >>> clf.predict_proba(data.data[:3]).shape
    (3, 2)
    """

    def __init__(
        self,
        n_kernels=32,
        kernel_size=5,
        pool_size=4,
        dropout=0.0,
        pool_first=True,
        *,
        lr=1e-2,
        max_epochs=30,
        batch_size=16,
        optimizer="adamw",
        weight_decay=1e-4,
        lr_schedule="onecycle",
        augment=True,
        early_stopping=False,
        validation_fraction=0.1,
        class_weight=None,
        tta=0,
        amp="auto",
        deterministic=False,
        callbacks=None,
        device="auto",
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        self.n_kernels = n_kernels
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.dropout = dropout
        self.pool_first = pool_first
        super().__init__(
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            optimizer=optimizer,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            augment=augment,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            class_weight=class_weight,
            tta=tta,
            amp=amp,
            deterministic=deterministic,
            callbacks=callbacks,
            device=device,
            random_state=random_state,
            verbose=verbose,
            **kwargs,
        )

    def _module_spec(self):
        return ConvNet, {
            "channels": conv_channels("simple", self.n_kernels, None),
            "kernel_size": self.kernel_size,
            "pool_size": self.pool_size,
            "dropout": self.dropout,
            **block_layout("simple"),
            "pool_first": self.pool_first,
        }


SimpleCNNClassifier.__doc__ = SimpleCNNClassifier.__doc__ % _DOC_PARTS


class TwoConvCNNClassifier(BaseCNNClassifier):
    """Two conv layers, each with its own kernel count.

    Parameters
    ----------
    n_kernels : int, default=32
        Kernels of the first conv layer.
    n_kernels_2 : int, default=64
        Kernels of the second conv layer.
    kernel_size : int, default=5
        Side of the square kernels.
    pool_size : int, default=3
        Max-pooling window after each layer.
    dropout : float, default=0.3
        Dropout before the linear layer.
    %(pool_first)s
    %(training)s

    %(attributes)s

    Examples
    --------
    >>> from skbrain import TwoConvCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(24, image_size=32, random_state=0)
    >>> clf = TwoConvCNNClassifier(max_epochs=2, random_state=0).fit(data.data, data.target)
    >>> clf.predict_proba(data.data[:3]).shape
    (3, 2)
    """

    def __init__(
        self,
        n_kernels=32,
        n_kernels_2=64,
        kernel_size=5,
        pool_size=3,
        dropout=0.3,
        pool_first=True,
        *,
        lr=1e-2,
        max_epochs=30,
        batch_size=16,
        optimizer="adamw",
        weight_decay=1e-4,
        lr_schedule="onecycle",
        augment=True,
        early_stopping=False,
        validation_fraction=0.1,
        class_weight=None,
        tta=0,
        amp="auto",
        deterministic=False,
        callbacks=None,
        device="auto",
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        self.n_kernels = n_kernels
        self.n_kernels_2 = n_kernels_2
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.dropout = dropout
        self.pool_first = pool_first
        super().__init__(
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            optimizer=optimizer,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            augment=augment,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            class_weight=class_weight,
            tta=tta,
            amp=amp,
            deterministic=deterministic,
            callbacks=callbacks,
            device=device,
            random_state=random_state,
            verbose=verbose,
            **kwargs,
        )

    def _module_spec(self):
        return ConvNet, {
            "channels": conv_channels("two-conv", self.n_kernels, self.n_kernels_2),
            "kernel_size": self.kernel_size,
            "pool_size": self.pool_size,
            "dropout": self.dropout,
            **block_layout("two-conv"),
            "pool_first": self.pool_first,
        }


TwoConvCNNClassifier.__doc__ = TwoConvCNNClassifier.__doc__ % _DOC_PARTS


class WideCNNClassifier(BaseCNNClassifier):
    """One wide conv layer: many large kernels (the study's tuned winner).

    The study tuned this net to 40 kernels of 7x7, pooling 3 and dropout 0.3;
    skbrain adds batch normalisation and ReLU after the convolution (the
    study's had no non-linearity) and pools globally.

    Parameters
    ----------
    n_kernels : int, default=40
        Kernels of the conv layer.
    kernel_size : int, default=7
        Side of the square kernels.
    pool_size : int, default=3
        Max-pooling window.
    dropout : float, default=0.3
        Dropout before the linear layer.
    %(pool_first)s
    %(training)s

    %(attributes)s

    Examples
    --------
    >>> from skbrain import WideCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(24, image_size=32, random_state=0)
    >>> clf = WideCNNClassifier(max_epochs=2, random_state=0).fit(data.data, data.target)
    >>> clf.predict_proba(data.data[:3]).shape
    (3, 2)
    """

    def __init__(
        self,
        n_kernels=40,
        kernel_size=7,
        pool_size=3,
        dropout=0.3,
        pool_first=True,
        *,
        lr=1e-2,
        max_epochs=30,
        batch_size=16,
        optimizer="adamw",
        weight_decay=1e-4,
        lr_schedule="onecycle",
        augment=True,
        early_stopping=False,
        validation_fraction=0.1,
        class_weight=None,
        tta=0,
        amp="auto",
        deterministic=False,
        callbacks=None,
        device="auto",
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        self.n_kernels = n_kernels
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.dropout = dropout
        self.pool_first = pool_first
        super().__init__(
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            optimizer=optimizer,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            augment=augment,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            class_weight=class_weight,
            tta=tta,
            amp=amp,
            deterministic=deterministic,
            callbacks=callbacks,
            device=device,
            random_state=random_state,
            verbose=verbose,
            **kwargs,
        )

    def _module_spec(self):
        return ConvNet, {
            "channels": conv_channels("wide", self.n_kernels, None),
            "kernel_size": self.kernel_size,
            "pool_size": self.pool_size,
            "dropout": self.dropout,
            **block_layout("wide"),
            "pool_first": self.pool_first,
        }


WideCNNClassifier.__doc__ = WideCNNClassifier.__doc__ % _DOC_PARTS


class DeepCNNClassifier(BaseCNNClassifier):
    """Three conv layers with an increasing kernel count (``k, 2k, 4k``).

    Parameters
    ----------
    n_kernels : int, default=16
        Kernels of the first layer; the next two have twice and four times as
        many.
    kernel_size : int, default=3
        Side of the square kernels.
    pool_size : int, default=2
        Max-pooling window after each layer.
    dropout : float, default=0.3
        Dropout before the linear layer.
    %(pool_first)s
    %(training)s

    %(attributes)s

    Examples
    --------
    >>> from skbrain import DeepCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(24, image_size=32, random_state=0)
    >>> clf = DeepCNNClassifier(max_epochs=2, random_state=0).fit(data.data, data.target)
    >>> clf.predict_proba(data.data[:3]).shape
    (3, 2)
    """

    def __init__(
        self,
        n_kernels=16,
        kernel_size=3,
        pool_size=2,
        dropout=0.3,
        pool_first=True,
        *,
        lr=1e-2,
        max_epochs=30,
        batch_size=16,
        optimizer="adamw",
        weight_decay=1e-4,
        lr_schedule="onecycle",
        augment=True,
        early_stopping=False,
        validation_fraction=0.1,
        class_weight=None,
        tta=0,
        amp="auto",
        deterministic=False,
        callbacks=None,
        device="auto",
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        self.n_kernels = n_kernels
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.dropout = dropout
        self.pool_first = pool_first
        super().__init__(
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            optimizer=optimizer,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            augment=augment,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            class_weight=class_weight,
            tta=tta,
            amp=amp,
            deterministic=deterministic,
            callbacks=callbacks,
            device=device,
            random_state=random_state,
            verbose=verbose,
            **kwargs,
        )

    def _module_spec(self):
        return ConvNet, {
            "channels": conv_channels("deep", self.n_kernels, None),
            "kernel_size": self.kernel_size,
            "pool_size": self.pool_size,
            "dropout": self.dropout,
            **block_layout("deep"),
            "pool_first": self.pool_first,
        }


DeepCNNClassifier.__doc__ = DeepCNNClassifier.__doc__ % _DOC_PARTS


class PyramidCNNClassifier(BaseCNNClassifier):
    """Three conv layers with a decreasing kernel count (``k, k/2, k/4``).

    Parameters
    ----------
    n_kernels : int, default=64
        Kernels of the first layer; the next two have half and a quarter as
        many.
    kernel_size : int, default=3
        Side of the square kernels.
    pool_size : int, default=2
        Max-pooling window after each layer.
    dropout : float, default=0.3
        Dropout before the linear layer.
    %(pool_first)s
    %(training)s

    %(attributes)s

    Examples
    --------
    >>> from skbrain import PyramidCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(24, image_size=32, random_state=0)
    >>> clf = PyramidCNNClassifier(max_epochs=2, random_state=0).fit(data.data, data.target)
    >>> clf.predict_proba(data.data[:3]).shape
    (3, 2)
    """

    def __init__(
        self,
        n_kernels=64,
        kernel_size=3,
        pool_size=2,
        dropout=0.3,
        pool_first=True,
        *,
        lr=1e-2,
        max_epochs=30,
        batch_size=16,
        optimizer="adamw",
        weight_decay=1e-4,
        lr_schedule="onecycle",
        augment=True,
        early_stopping=False,
        validation_fraction=0.1,
        class_weight=None,
        tta=0,
        amp="auto",
        deterministic=False,
        callbacks=None,
        device="auto",
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        self.n_kernels = n_kernels
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.dropout = dropout
        self.pool_first = pool_first
        super().__init__(
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            optimizer=optimizer,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            augment=augment,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            class_weight=class_weight,
            tta=tta,
            amp=amp,
            deterministic=deterministic,
            callbacks=callbacks,
            device=device,
            random_state=random_state,
            verbose=verbose,
            **kwargs,
        )

    def _module_spec(self):
        return ConvNet, {
            "channels": conv_channels("pyramid", self.n_kernels, None),
            "kernel_size": self.kernel_size,
            "pool_size": self.pool_size,
            "dropout": self.dropout,
            **block_layout("pyramid"),
            "pool_first": self.pool_first,
        }


PyramidCNNClassifier.__doc__ = PyramidCNNClassifier.__doc__ % _DOC_PARTS


class CompactCNNClassifier(BaseCNNClassifier):
    """A small modern CNN: four blocks of 3x3 convolutions, batch norm and ReLU.

    Not one of the study's designs: skbrain adds it as the from-scratch
    network that a VGG-style stack of small kernels makes possible (kernel
    counts ``k, 2k, 4k, 8k``, global pooling). The first block, at full
    resolution, has one convolution and the other three have two
    (``module__first_block_convs=2`` gives the first block its second).

    Parameters
    ----------
    n_kernels : int, default=16
        Kernels of the first block; each later block doubles them.
    kernel_size : int, default=3
        Side of the square kernels.
    pool_size : int, default=2
        Max-pooling window after each block.
    dropout : float, default=0.3
        Dropout before the linear layer.
    %(pool_first)s
    %(training)s

    %(attributes)s

    Examples
    --------
    >>> from skbrain import CompactCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(24, image_size=32, random_state=0)
    >>> clf = CompactCNNClassifier(max_epochs=2, random_state=0).fit(data.data, data.target)
    >>> clf.predict_proba(data.data[:3]).shape
    (3, 2)
    """

    def __init__(
        self,
        n_kernels=16,
        kernel_size=3,
        pool_size=2,
        dropout=0.3,
        pool_first=True,
        *,
        lr=1e-2,
        max_epochs=30,
        batch_size=16,
        optimizer="adamw",
        weight_decay=1e-4,
        lr_schedule="onecycle",
        augment=True,
        early_stopping=False,
        validation_fraction=0.1,
        class_weight=None,
        tta=0,
        amp="auto",
        deterministic=False,
        callbacks=None,
        device="auto",
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        self.n_kernels = n_kernels
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.dropout = dropout
        self.pool_first = pool_first
        super().__init__(
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            optimizer=optimizer,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            augment=augment,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            class_weight=class_weight,
            tta=tta,
            amp=amp,
            deterministic=deterministic,
            callbacks=callbacks,
            device=device,
            random_state=random_state,
            verbose=verbose,
            **kwargs,
        )

    def _module_spec(self):
        return ConvNet, {
            "channels": conv_channels("compact", self.n_kernels, None),
            "kernel_size": self.kernel_size,
            "pool_size": self.pool_size,
            "dropout": self.dropout,
            **block_layout("compact"),
            "pool_first": self.pool_first,
        }


CompactCNNClassifier.__doc__ = CompactCNNClassifier.__doc__ % _DOC_PARTS
