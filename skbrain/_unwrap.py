"""Find the skbrain estimator inside whatever wraps it.

Every tool that needs the network (Grad-CAM, ONNX export, the model card, the
figures, persistence, the command line) calls :func:`unwrap` instead of
walking wrappers itself, so each tool takes the same models: a bare estimator,
a :class:`~sklearn.pipeline.Pipeline` ending in one, threshold wrappers
(:class:`~sklearn.model_selection.FixedThresholdClassifier`,
:class:`~sklearn.model_selection.TunedThresholdClassifierCV`), calibration
(:class:`~sklearn.calibration.CalibratedClassifierCV`), ``FrozenEstimator``,
fitted searches (``best_estimator_``) and a
:class:`~sklearn.ensemble.VotingClassifier` of skbrain estimators (its first
member stands for the others, as calibration's first fold does), nested in
any order.
"""

from dataclasses import dataclass, field

from ._positive import positive_column
from ._positive import positive_label as default_pos_label

__all__ = ["Unwrapped", "default_pos_label", "positive_column", "unwrap"]

_MAX_DEPTH = 20


@dataclass(frozen=True)
class Unwrapped:
    """What :func:`unwrap` found.

    Attributes
    ----------
    estimator : skbrain estimator
        The innermost skbrain estimator (it has ``net_`` once fitted).
    steps : list of (name, transformer)
        The Pipeline steps met before the estimator, outermost first; applying
        them in order turns the model's input into the estimator's.
    threshold : float or None
        Decision threshold of a threshold wrapper, if one was met.
    threshold_source : str or None
        How the threshold was set (``"fixed (FixedThresholdClassifier)"`` ...).
    calibration : estimator or None
        The calibration wrapper, if one was met.
    wrappers : tuple of str
        Class names of everything met on the way, outermost first.
    vote : estimator or None
        The VotingClassifier, if one was met (``estimator`` is its first member).
    """

    estimator: object
    steps: list = field(default_factory=list)
    threshold: float | None = None
    threshold_source: str | None = None
    calibration: object | None = None
    wrappers: tuple = ()
    vote: object | None = None

    def transform(self, X):
        """Apply the steps before the estimator to ``X``."""
        for _, step in self.steps:
            X = step.transform(X)
        return X


def _is_skbrain(obj):
    # Asked of the class: FrozenEstimator passes attribute look-ups to what it wraps.
    cls = obj if isinstance(obj, type) else type(obj)
    return hasattr(cls, "_module_spec") and hasattr(cls, "_validate_X")


def unwrap(model, *, fitted=True, caller="this function", export=False):
    """Find the skbrain estimator inside ``model``.

    Parameters
    ----------
    model : estimator
        A skbrain estimator or any nesting of Pipelines, threshold and
        calibration wrappers, ``FrozenEstimator`` and fitted searches around one.
    fitted : bool, default=True
        Also require the estimator to be fitted.
    caller : str
        Named in the error message.
    export : bool, default=False
        The caller exports the network alone (ONNX): refuse a calibrated
        model, whose probabilities come from a calibration map (averaged over
        one network per fold) that the network does not hold, and a vote of
        several networks.

    Returns
    -------
    Unwrapped

    Raises
    ------
    TypeError
        If no skbrain estimator is inside ``model``.
    sklearn.exceptions.NotFittedError
        If ``fitted`` and the estimator is not fitted.
    ValueError
        If ``export`` and a calibration wrapper or a vote is met.

    Examples
    --------
    >>> from sklearn.pipeline import Pipeline
    >>> from skbrain import ImageResizer, SimpleCNNClassifier
    >>> found = unwrap(Pipeline([("resize", ImageResizer(32)), ("cnn", SimpleCNNClassifier())]),
    ...                fitted=False)
    >>> type(found.estimator).__name__, [name for name, _ in found.steps]
    ('SimpleCNNClassifier', ['resize'])
    """
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    steps, wrappers = [], []
    threshold = source = calibration = vote = None
    current = model
    for _ in range(_MAX_DEPTH):
        if _is_skbrain(current):
            break
        name = type(current).__name__
        wrappers.append(name)
        if name == "FrozenEstimator":  # first: it forwards every attribute the checks test
            current = current.estimator
        elif isinstance(current, Pipeline):
            steps.extend(
                (step_name, step)
                for step_name, step in current.steps[:-1]
                if step is not None and step != "passthrough"
            )
            current = current.steps[-1][1]
        elif hasattr(current, "best_threshold_"):  # fitted TunedThresholdClassifierCV
            threshold = float(current.best_threshold_)
            scoring = " ".join(repr(current.scoring).split())[:100]
            source = (f"tuned by cross-validation on the training images ({name}, "
                      f"scoring={scoring})")
            current = current.estimator_
        elif name == "FixedThresholdClassifier":
            value = current.threshold
            threshold = 0.5 if value == "auto" else float(value)
            source = f"fixed ({name})"
            current = getattr(current, "estimator_", current.estimator)
        elif hasattr(current, "voting") and hasattr(current, "estimators"):
            vote = current
            current = (current.estimators_[0] if hasattr(current, "estimators_")
                       else current.estimators[0][1])
        elif hasattr(current, "calibrated_classifiers_"):
            calibration = current
            current = current.calibrated_classifiers_[0].estimator
        elif hasattr(current, "best_estimator_"):
            current = current.best_estimator_
        elif hasattr(current, "estimator_"):
            current = current.estimator_
        elif hasattr(current, "estimator"):  # unfitted wrappers
            current = current.estimator
        else:
            break
    if not _is_skbrain(current):
        raise TypeError(
            f"{caller} needs a skbrain estimator, or a Pipeline, threshold or calibration "
            f"wrapper or fitted search around one; found {type(current).__name__} "
            f"inside {type(model).__name__}"
        )
    if fitted:
        check_is_fitted(current)
    if export and calibration is not None:
        folds = len(getattr(calibration, "calibrated_classifiers_", ()))
        raise ValueError(
            f"{caller} exports the network alone, and {type(model).__name__} holds a "
            f"{type(calibration).__name__} (method={calibration.method!r}, {folds} fold "
            "network(s) averaged): the exported probabilities would be one fold's, "
            "uncalibrated. Export the model before calibration, or one fold on purpose: "
            "calibrated_classifiers_[0].estimator"
        )
    if export and vote is not None:
        raise ValueError(
            f"{caller} exports one network, and {type(model).__name__} holds a "
            f"VotingClassifier of {len(vote.estimators)} networks (their probabilities "
            "averaged): the export would be its first member's alone. Export a member on "
            "purpose: estimators_[i]"
        )
    return Unwrapped(current, steps, threshold, source, calibration, tuple(wrappers), vote)
