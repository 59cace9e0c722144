"""Predicting over files: in batches, with bounded memory, per slice and per scan."""

import os
import sys
import warnings
from dataclasses import dataclass, replace
from numbers import Real

import numpy as np

__all__ = ["Prediction", "predict_images"]

AGGREGATES = ("max", "mean")
# Every image of the three collections the shipped detectors learned from shows at least
# 17.5 % head (the head-volume slices start at 15 %): thinner slices (skull base, vertex,
# empty ones) are outside what any of them has seen, and a maximum over them is noise.
MIN_HEAD_FRACTION = 0.15


@dataclass(frozen=True)
class Prediction:
    """One row of :func:`predict_images`: an image (slice) or a whole scan.

    Attributes
    ----------
    kind : {"slice", "scan"}
    name : str
        The image path or slice reference; for a scan, its name (the volume
        path, or ``"<folder>#series:<SeriesInstanceUID>"``).
    label : object
        The predicted class. For a slice, what the model's ``predict`` says;
        for a scan, the positive class when ``p_tumor`` reaches the model's
        decision threshold (0.5 unless a threshold wrapper sets another).
    p_tumor : float
        The probability of the positive class; for a scan, the max or mean
        over its slices. With more than two classes there is no positive
        class: it is the probability of the predicted class (for a scan, of
        the class whose aggregated probability is highest).
    scan : str or None
        The scan a slice belongs to (None for a lone image, and for scans).
    n_slices : int
        1 for a slice; for a scan, the number of its slices its probability
        is taken over.
    counted : bool
        For a slice of a scan, whether it counts toward the scan's
        probability (False: it shows less head than ``min_head_fraction``);
        True otherwise.
    n_left_out : int
        For a scan, its slices left out of its probability for showing too
        little head; 0 otherwise.
    """

    kind: str
    name: str
    label: object
    p_tumor: float
    scan: object = None
    n_slices: int = 1
    counted: bool = True
    n_left_out: int = 0


def predict_images(model, images, *, scans=None, aggregate="max",
                   min_head_fraction=MIN_HEAD_FRACTION, batch_size=256, pos_label=1,
                   progress=False):
    """Predict images file by file in batches, yielding rows as they are ready.

    A lone image's row comes as soon as its batch is predicted; a scan's slice
    rows come together with its scan row, once the scan's last slice is.

    Only ``batch_size`` decoded images are in memory at a time, so a folder of
    any size is predicted in bounded memory; each batch is decoded once (by the
    pipeline's transformers) and then given to the classifier. A DICOM or
    NIfTI slice of a scan is read once for both its share of head and the
    pipeline when the pipeline starts with an :class:`~skbrain.ImageResizer`
    (inside threshold wrappers too).

    Parameters
    ----------
    model : fitted estimator
        A skbrain classifier, or a Pipeline (such as ``ImageResizer`` then a
        classifier), possibly inside a threshold wrapper.
    images : sequence of str
        Paths or slice references (see :func:`skbrain.datasets.load_nifti`,
        :func:`skbrain.datasets.expand_scans`).
    scans : sequence, default=None
        The scan of each image, or None for a lone image. The images of one
        scan must be next to each other; after the last of them a ``"scan"``
        row follows.
    aggregate : {"max", "mean"}, default="max"
        How a scan's slice probabilities become its probability: ``"max"``
        (a scan with one tumor slice is a tumor scan) or ``"mean"``.
    min_head_fraction : float in [0, 1), default=0.15
        A scan's slices whose share of head (:func:`skbrain.datasets.head_fraction`
        of the slice as read, grey level above 10) is below this still get
        their row but do not count toward the scan's probability: slices at
        the skull base, the top of the head or past it show anatomy that no
        training image of the shipped detectors showed (each shows at least
        17.5 % head). A scan with no slice at or above it is taken over all
        its slices, with a warning. 0 counts every slice. Lone images are
        never left out.
    batch_size : int, default=256
        Images decoded and predicted at a time.
    pos_label : default=1
        The class whose probability is ``p_tumor`` for a two-class model (the
        later class when 1 is not one of the labels); unused for more classes.
    progress : bool, default=False
        Show a progress bar (tqdm) on stderr.

    Yields
    ------
    Prediction
        One per image, in order, and one per scan after its last image.

    Examples
    --------
    >>> import numpy as np
    >>> from skbrain.inference import predict_images
    >>> class Half:  # any fitted classifier; here a stand-in that needs no files
    ...     classes_ = np.array([0, 1])
    ...     def predict_proba(self, X):
    ...         p = np.array([0.2 if "a" in x else 0.9 for x in X])
    ...         return np.column_stack([1 - p, p])
    >>> # min_head_fraction=0: these names are no files to measure a head share on
    >>> rows = list(predict_images(Half(), ["a1", "b1", "a2"], scans=["s", "s", None],
    ...                            min_head_fraction=0))
    >>> for r in rows:
    ...     print(r.kind, r.name, r.label, r.p_tumor)
    slice a1 0 0.2
    slice b1 1 0.9
    scan s 1 0.9
    slice a2 0 0.2
    """
    from ._positive import positive_column, positive_label

    if aggregate not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {AGGREGATES}; got {aggregate!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
    if (isinstance(min_head_fraction, bool) or not isinstance(min_head_fraction, Real)
            or not 0 <= min_head_fraction < 1):
        raise ValueError("min_head_fraction must be a number in [0, 1); got "
                         f"{min_head_fraction!r}")
    images = list(images)
    scans = [None] * len(images) if scans is None else list(scans)
    if len(scans) != len(images):
        raise ValueError(f"scans has {len(scans)} entries for {len(images)} images")
    transform, classifier = _split(model)
    mode = _resizer_mode(model)
    classes = np.asarray(classifier.classes_)
    multi = len(classes) > 2
    if not multi and pos_label not in classes.tolist():
        pos_label = positive_label(classes)
    column = None if multi else positive_column(classes, pos_label)
    threshold = _threshold(model)
    bar = _progress(len(images), progress)
    current, probs, counted, held = None, [], [], []

    def finish_scan():
        # A scan's slice rows wait for its row: only then is it known whether the scan fell
        # back to all its slices, which every one of them then counts toward.
        row, fell_back = _scan_row(current, probs, counted, aggregate, classes, column,
                                   threshold, min_head_fraction)
        for slice_row in held:
            yield replace(slice_row, counted=True) if fell_back else slice_row
        yield row

    try:
        for start in range(0, len(images), batch_size):
            chunk = images[start:start + batch_size]
            inputs, shows_head = list(chunk), [True] * len(chunk)
            for i, name in enumerate(chunk):
                if scans[start + i] is not None:
                    inputs[i], shows_head[i] = _scan_slice(name, min_head_fraction, mode)
            proba = np.asarray(classifier.predict_proba(transform(inputs)))
            labels = _labels(proba, classes, column, threshold)
            for i, (name, label) in enumerate(zip(chunk, labels, strict=True)):
                scan = scans[start + i]
                if scan != current:
                    if current is not None:
                        yield from finish_scan()
                    current, probs, counted, held = scan, [], [], []
                p = proba[i].max() if multi else proba[i, column]
                if scan is None:
                    yield Prediction("slice", name, _item(label), float(p))
                    continue
                counts = shows_head[i]
                probs.append(proba[i])
                counted.append(counts)
                held.append(Prediction("slice", name, _item(label), float(p), scan,
                                       counted=counts))
            if bar is not None:
                bar.update(len(chunk))
        if current is not None:
            yield from finish_scan()
    finally:
        if bar is not None:
            bar.close()


def _labels(proba, classes, column, threshold):
    """Labels of probability rows: the threshold on the positive column, else the argmax."""
    if column is not None and threshold is not None:
        negative = classes[1 - column]
        return np.where(proba[:, column] >= threshold, classes[column], negative)
    return classes[np.argmax(proba, axis=1)]


def _split(model):
    """(decode, classifier): a plain Pipeline's transformers and its last step.

    Decoding once and asking the classifier for probabilities only (labels are
    their argmax, as skbrain's ``predict``) runs each batch through the network once.
    """
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline) and len(model.steps) > 1:
        return model[:-1].transform, model[-1]
    return (lambda X: X), model


def _threshold(model):
    """The decision threshold of a threshold wrapper in ``model``, else None."""
    from ._unwrap import unwrap

    try:
        return unwrap(model, fitted=False, caller="predict_images").threshold
    except TypeError:
        return None


_PATHS_ONLY = object()


def _resizer_mode(model):
    """The mode the ImageResizer that starts ``model``'s pipeline reads files in ("L" or None),
    so that a slice decoded in it reads as the file would; ``_PATHS_ONLY`` when there is no
    such resizer, or several models that could each start otherwise (calibration folds, a
    vote). Threshold wrappers and FrozenEstimator pass the slice on to the one pipeline."""
    from ._unwrap import unwrap
    from .preprocessing import ImageResizer

    try:
        found = unwrap(model, fitted=False, caller="predict_images")
    except TypeError:
        return _PATHS_ONLY
    if found.vote is not None or found.calibration is not None or not found.steps:
        return _PATHS_ONLY
    first = found.steps[0][1]
    if not isinstance(first, ImageResizer) or first.cache_dir is not None:
        return _PATHS_ONLY
    return "L" if first.channels == 1 else None


def _scan_slice(name, min_head_fraction, mode):
    """(what the pipeline is given, whether the slice shows ``min_head_fraction`` head).

    The pipeline's output is resized and standardised, so the share of head is measured on
    the slice as read. A DICOM or NIfTI slice read in the resizer's ``mode`` is handed on
    decoded (a reader's pixels ignore the resizer's JPEG-only options, so they are the
    same); other files are read twice.
    """
    if min_head_fraction <= 0:
        return name, True
    from ._readers import parse_reference, read_image, reader_for
    from .datasets import head_fraction

    reusable = (mode is not _PATHS_ONLY and isinstance(name, (str, bytes, os.PathLike))
                and reader_for(parse_reference(name)[0]) is not None)
    image = read_image(name, mode=mode if reusable else "L")
    grey = image if image.mode == "L" else image.convert("L")
    return (image if reusable else name,
            head_fraction(np.asarray(grey)) >= min_head_fraction)


def _scan_row(scan, probs, counted, aggregate, classes, column, threshold, min_head_fraction):
    """A scan's row, its counted slices' probabilities aggregated (max or mean), and
    whether it fell back to all its slices (none showed enough head)."""
    counted = np.asarray(counted, dtype=bool)
    fell_back = not counted.any()
    if fell_back:
        warnings.warn(f"{scan}: no slice shows at least {min_head_fraction:.0%} head, so its "
                      f"probability is over all {len(probs)} slices", UserWarning, stacklevel=4)
        counted[:] = True
    probs = np.asarray(probs)[counted]
    combined = probs.max(axis=0) if aggregate == "max" else probs.mean(axis=0)
    if column is None:
        label = classes[int(np.argmax(combined))]
        p = float(combined.max())
    else:
        p = float(combined[column])
        cut = 0.5 if threshold is None else threshold
        label = classes[column] if p >= cut else classes[1 - column]
    return Prediction("scan", str(scan), _item(label), p, None, len(probs),
                      n_left_out=int((~counted).sum())), fell_back


def _item(value):
    return value.item() if hasattr(value, "item") else value


def _progress(total, enabled):
    if not enabled or total == 0:
        return None
    from tqdm.auto import tqdm  # a dependency of skorch

    return tqdm(total=total, unit="img", file=sys.stderr, leave=False)
