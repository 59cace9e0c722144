"""Every matplotlib figure skbrain draws.

Each function builds a new :class:`matplotlib.figure.Figure` without
:mod:`matplotlib.pyplot`, so nothing opens a window, no global figure is left
behind, and the functions work on headless servers under any backend. Show a
figure in a notebook by leaving it as a cell's value (or ``display(fig)``);
save it with ``fig.savefig("name.png")``.
"""

import math
import numbers

import numpy as np

from ._positive import positive_column
from .datasets._folder import class_name

__all__ = [
    "plot_calibration",
    "plot_comparison",
    "plot_confusion_matrix",
    "plot_gradcam",
    "plot_history",
    "plot_predictions",
    "plot_search",
]

_CORRECT, _WRONG = "#1a7f37", "#cf222e"
_THUMBNAIL = 256  # pixels; image files are shown no larger, keeping figures small


def _figure(**kwargs):
    from matplotlib.figure import Figure  # imported here: a figure is the first to need it

    return Figure(**kwargs)


def _display_image(image):
    """Return an (H, W) or (H, W, 3) array in [0, 1] that imshow draws as intended."""
    if isinstance(image, (str, bytes)) or hasattr(image, "__fspath__"):
        from ._imageio import read_image

        picture = read_image(image, size_hint=_THUMBNAIL)
        picture.thumbnail((_THUMBNAIL, _THUMBNAIL))
        image = np.asarray(picture)
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
        array = np.moveaxis(array, 0, -1)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 3 and array.shape[-1] == 4:
        array = array[..., :3]
    if array.ndim not in (2, 3):
        raise ValueError(
            "images must be file paths or arrays of shape (n, channels, height, width) or "
            f"(n, height, width); got an image of shape {array.shape}"
        )
    kind = array.dtype
    array = array.astype(np.float64)
    if kind == np.uint8:
        array = array / 255.0
    elif kind.kind in "iu":
        array = array / max(float(np.iinfo(kind).max), 1.0)
    elif array.size and (array.min() < 0 or array.max() > 1):
        low, high = array.min(), array.max()
        array = (array - low) / (high - low) if high > low else np.zeros_like(array)
    return np.clip(array, 0, 1)


def _positive_column(y_proba, *labels):
    """The positive class's probabilities; ``labels`` (y_true, y_pred) name the columns."""
    if y_proba is None:
        return None
    proba = np.asarray(y_proba, dtype=np.float64)
    if proba.ndim == 2 and proba.shape[1] > 2:
        return proba.max(axis=1)  # more classes: the predicted class's probability
    if proba.ndim != 2:
        return proba
    seen = [v for values in labels if values is not None for v in np.asarray(values).ravel()]
    classes = np.unique(seen) if seen else ()
    if proba.shape[1] == 2 and len(classes) == 2:
        return proba[:, positive_column(classes)]
    return proba[:, -1]  # the labels do not tell the columns apart: the later class


def plot_predictions(images, y_true, y_pred, y_proba=None, n=4, *, class_names=None,
                     ncols=4):
    """Show images with their true and predicted labels (the study's test figure).

    Titles of correct predictions are green, of wrong ones red.

    Parameters
    ----------
    images : list of paths, or array of shape (n, C, H, W) or (n, H, W)
        The images, as files or as arrays (``ImageResizer`` output, uint8 or
        float).
    y_true, y_pred : array-like of shape (n_images,)
        True and predicted labels.
    y_proba : array-like of shape (n_images,) or (n_images, n_classes), default=None
        Probability of the tumor class (of a two-column array, the column of
        label 1 when it is among the labels, else of the later label; with more
        classes, the predicted class's), shown in each title.
    n : int or None, default=4
        How many images to show, from the first; ``None`` shows all.
    class_names : dict or sequence, default=None
        Display name of each label; ``None`` calls 0 "no tumor" and 1
        "tumor" and shows other labels as they are.
    ncols : int, default=4
        Images per row.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> images = np.random.default_rng(0).random((3, 1, 16, 16))
    >>> fig = plot_predictions(images, [0, 1, 1], [0, 1, 0], [0.1, 0.8, 0.4], n=3)
    >>> [ax.get_title() for ax in fig.axes][:2]
    ['true: no tumor\\npred: no tumor (p=0.10)', 'true: tumor\\npred: tumor (p=0.80)']
    """
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    total = len(images)
    if len(y_true) != total or len(y_pred) != total:
        raise ValueError(
            f"images, y_true and y_pred must have one entry per image; got {total}, "
            f"{len(y_true)} and {len(y_pred)}"
        )
    proba = _positive_column(y_proba, y_true, y_pred)
    if proba is not None and len(proba) != total:
        raise ValueError(f"y_proba has {len(proba)} entries for {total} images")
    count = total if n is None else min(int(n), total)
    if count < 1:
        raise ValueError("there are no images to show")
    ncols = max(1, min(int(ncols), count))
    nrows = math.ceil(count / ncols)
    fig = _figure(figsize=(3 * ncols, 3.3 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i >= count:
            continue
        picture = _display_image(images[i])
        ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None, vmin=0, vmax=1)
        title = (f"true: {class_name(y_true[i], class_names)}\n"
                 f"pred: {class_name(y_pred[i], class_names)}")
        if proba is not None:
            title += f" (p={proba[i]:.2f})"
        ax.set_title(title, fontsize=10,
                     color=_CORRECT if y_true[i] == y_pred[i] else _WRONG)
    return fig


def plot_confusion_matrix(y_true, y_pred, *, labels=None, class_names=None, normalize=False):
    """Draw the confusion matrix: true labels down, predicted labels across.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    labels : sequence, default=None
        Label order; ``None`` sorts the labels found.
    class_names : dict or sequence, default=None
        Display names, as in :func:`plot_predictions`.
    normalize : bool, default=False
        Show each row as shares of its true class (with the counts beneath).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_confusion_matrix([0, 0, 1, 1, 1], [0, 1, 1, 1, 0])
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['1', '1', '1', '2']
    """
    from sklearn.metrics import confusion_matrix

    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if labels is None:
        labels = np.unique(np.concatenate([y_true, y_pred]))
    matrix = confusion_matrix(y_true, y_pred, labels=labels)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    names = [class_name(label, class_names) for label in labels]
    fig = _figure(figsize=(1.6 * len(labels) + 2.2, 1.4 * len(labels) + 1.6),
                  layout="constrained")
    ax = fig.add_subplot()
    shown = shares if normalize else matrix
    image = ax.imshow(shown, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, shrink=0.8)
    threshold = shown.max() / 2 if shown.size else 0
    for (i, j), count in np.ndenumerate(matrix):
        text = f"{shares[i, j]:.2f}\n({count})" if normalize else str(count)
        ax.text(j, i, text, ha="center", va="center",
                color="white" if shown[i, j] > threshold else "black")
    ax.set_xticks(range(len(labels)), names)
    ax.set_yticks(range(len(labels)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix")
    return fig


def _history_of(estimator):
    from ._unwrap import unwrap

    try:
        model = unwrap(estimator, fitted=False).estimator
    except TypeError:
        model = estimator
    history = None
    if hasattr(model, "net_"):
        history = model.net_.history
    elif hasattr(model, "history") and hasattr(model, "module_"):
        history = model.history  # a bare skorch net
    if history is None or len(history) == 0:
        raise ValueError(
            f"{type(estimator).__name__} has no training history: pass a fitted skbrain "
            "estimator, a Pipeline ending in one, or a fitted search over one"
        )
    return history


def plot_history(estimator):
    """Plot training (and validation) loss per epoch of a fitted estimator.

    Validation loss appears when the estimator held out validation images
    (``early_stopping``); validation accuracy, when recorded, goes on a
    second axis.

    Parameters
    ----------
    estimator : fitted skbrain estimator, Pipeline ending in one, or fitted search

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from skbrain import SimpleCNNClassifier
    >>> from skbrain.datasets import make_synthetic_mri
    >>> data = make_synthetic_mri(16, image_size=32, random_state=0)
    >>> clf = SimpleCNNClassifier(max_epochs=3, random_state=0).fit(data.data, data.target)
    >>> fig = plot_history(clf)
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['train loss']
    """
    history = _history_of(estimator)
    epochs = history[:, "epoch"]
    fig = _figure(figsize=(6.4, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(epochs, history[:, "train_loss"], marker="o", label="train loss")
    rows = list(history)
    if all("valid_loss" in row for row in rows):
        ax.plot(epochs, history[:, "valid_loss"], marker="o", label="valid loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss")
    handles, labels = ax.get_legend_handles_labels()
    if all("valid_acc" in row for row in rows):
        acc_ax = ax.twinx()
        acc_ax.plot(epochs, history[:, "valid_acc"], color="tab:green", linestyle="--",
                    label="valid accuracy")
        acc_ax.set_ylabel("validation accuracy")
        acc_ax.set_ylim(0, 1)
        more_handles, more_labels = acc_ax.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    ax.legend(handles, labels, loc="upper right")
    if len(epochs) < 15:
        ax.set_xticks(list(epochs))
    ax.set_title("training history")
    return fig


def plot_comparison(table, metrics=("accuracy", "precision", "recall", "f1", "roc_auc")):
    """Bar chart of a :class:`~skbrain.tables.ResultsTable`, with sd error bars.

    Parameters
    ----------
    table : ResultsTable
        From :func:`~skbrain.evaluation.compare_models`.
    metrics : sequence of str, default=("accuracy", "precision", "recall", "f1", "roc_auc")
        The scores to draw (those in [0, 1]); missing ones are skipped.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from skbrain.tables import ResultsTable
    >>> table = ResultsTable([{"model": "wide", "f1": 0.8}, {"model": "wide", "f1": 0.9},
    ...                       {"model": "deep", "f1": 0.7}, {"model": "deep", "f1": 0.75}])
    >>> fig = plot_comparison(table)
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['wide', 'deep']
    """
    from .metrics import METRIC_LABELS

    metrics = [m for m in metrics if m in table.metrics]
    if not metrics:
        raise ValueError(f"the table has none of the metrics {list(metrics)}; it has "
                         f"{list(table.metrics)}")
    rows = table.rows
    n_models = len(rows)
    width = 0.8 / n_models
    x = np.arange(len(metrics))
    fig = _figure(figsize=(max(7.2, 1.2 * len(metrics) * max(1, n_models / 3) + 1.2), 4.2),
                  layout="constrained")
    ax = fig.add_subplot()
    for i, row in enumerate(rows):
        means = np.array([row[f"{m}_mean"] for m in metrics], dtype=float)
        stds = np.nan_to_num(np.array([row[f"{m}_std"] for m in metrics], dtype=float))
        ax.bar(x + (i - (n_models - 1) / 2) * width, np.nan_to_num(means), width,
               yerr=stds, capsize=3, label=row["model"])
    ax.set_xticks(x, [METRIC_LABELS.get(m, m) for m in metrics])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    n_splits = max(row["n_splits"] for row in rows)
    title = "model comparison"
    if n_splits > 1:
        title += f" (mean ± sd over {n_splits} splits)"
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)
    ax.grid(axis="y", alpha=0.3)
    return fig


def plot_calibration(y_true, y_proba, n_bins=10, *, pos_label=1):
    """Reliability curve: predicted tumor probability against the observed share.

    A calibrated model follows the diagonal. The lower panel shows how many
    predictions fall into each bin; the title gives the expected calibration
    error and the Brier score.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_proba : array-like of shape (n_samples,) or (n_samples, 2)
        Probability of ``pos_label`` (or ``predict_proba``'s output, columns
        in sorted label order).
    n_bins : int, default=10
        Equal-width bins over [0, 1].
    pos_label : int or str, default=1

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_calibration([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.9], n_bins=5)
    >>> fig.axes[0].get_title()
    'calibration (ECE 0.225, Brier 0.068)'
    """
    from .metrics import _positive_proba, expected_calibration_error

    y_true = np.asarray(y_true).ravel()
    proba = _positive_proba(y_proba, np.unique(y_true), pos_label)
    ece = expected_calibration_error(y_true, proba, n_bins, pos_label=pos_label)
    positive = (y_true == pos_label).astype(float)
    brier = float(np.mean((proba - positive) ** 2))
    bins = np.minimum((proba * n_bins).astype(int), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    filled = counts > 0
    mean_proba = np.bincount(bins, weights=proba, minlength=n_bins)[filled] / counts[filled]
    observed = np.bincount(bins, weights=positive, minlength=n_bins)[filled] / counts[filled]

    fig = _figure(figsize=(5, 6), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.plot([0, 1], [0, 1], linestyle=":", color="gray", label="perfectly calibrated")
    top.plot(mean_proba, observed, marker="o", label="model")
    top.set_ylabel("observed share of tumors")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.legend(loc="upper left")
    top.set_title(f"calibration (ECE {ece:.3f}, Brier {brier:.3f})")
    edges = np.linspace(0, 1, n_bins + 1)
    bottom.bar(edges[:-1], counts, width=1 / n_bins, align="edge", edgecolor="white")
    bottom.set_xlabel("predicted tumor probability")
    bottom.set_ylabel("images")
    return fig


def plot_gradcam(images, heatmaps, y_true=None, y_pred=None, y_proba=None, n=4, *,
                 class_names=None, ncols=4, alpha=0.45, cmap="jet"):
    """Overlay Grad-CAM heat maps on their images.

    Each panel shows the image in gray with its heat map on top (from
    :meth:`skbrain.explain.GradCAM.explain`); titles give the true and
    predicted labels and the tumor probability where known (green when
    right, red when wrong).

    Parameters
    ----------
    images : list of paths, or array of shape (n, C, H, W) or (n, H, W)
        The images, as files or arrays (uint8 or float).
    heatmaps : array-like of shape (n, h, w)
        Maps in [0, 1]; each is stretched over its image, so maps at the
        network's resolution fit images of any size.
    y_true, y_pred : array-like of shape (n,), default=None
        True and predicted labels, shown in the titles.
    y_proba : array-like of shape (n,) or (n, 2), default=None
        Probability of the tumor class (of a two-column array, the column of
        label 1 when it is among the labels, else of the later label).
    n : int or None, default=4
        How many images to show, from the first; ``None`` shows all.
    class_names : dict or sequence, default=None
        Display name of each label; ``None`` calls 0 "no tumor" and 1 "tumor".
    ncols : int, default=4
        Images per row.
    alpha : float, default=0.45
        Opacity of the heat map.
    cmap : str, default="jet"
        Colour map of the heat map.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> images = np.random.default_rng(0).random((2, 1, 32, 32))
    >>> heatmaps = np.random.default_rng(1).random((2, 8, 8))
    >>> fig = plot_gradcam(images, heatmaps, y_true=[1, 0], y_pred=[1, 1], y_proba=[0.9, 0.6])
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['true: tumor\\npred: tumor (p=0.90)', 'true: no tumor\\npred: tumor (p=0.60)']
    """
    heatmaps = np.asarray(heatmaps, dtype=np.float64)
    total = len(images)
    if heatmaps.ndim != 3 or len(heatmaps) != total:
        raise ValueError(
            f"heatmaps must have shape (n_images, height, width) with one map per image "
            f"({total}); got shape {heatmaps.shape}"
        )
    labels = {}
    for name, values in (("y_true", y_true), ("y_pred", y_pred)):
        if values is not None:
            values = np.asarray(values).ravel()
            if len(values) != total:
                raise ValueError(f"{name} has {len(values)} entries for {total} images")
            labels[name] = values
    proba = _positive_column(y_proba, *labels.values())
    if proba is not None and len(proba) != total:
        raise ValueError(f"y_proba has {len(proba)} entries for {total} images")
    count = total if n is None else min(int(n), total)
    if count < 1:
        raise ValueError("there are no images to show")
    ncols = max(1, min(int(ncols), count))
    nrows = math.ceil(count / ncols)
    fig = _figure(figsize=(3 * ncols + 0.6, 3.3 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    shown = None
    for i, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if i >= count:
            continue
        picture = _display_image(images[i])
        height, width = picture.shape[:2]
        extent = (0, width, height, 0)
        ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None, vmin=0, vmax=1,
                  extent=extent)
        shown = ax.imshow(np.clip(heatmaps[i], 0, 1), cmap=cmap, alpha=alpha, vmin=0, vmax=1,
                          extent=extent, interpolation="bilinear")
        title, color = [], None
        if "y_true" in labels:
            title.append(f"true: {class_name(labels['y_true'][i], class_names)}")
        if "y_pred" in labels:
            pred = f"pred: {class_name(labels['y_pred'][i], class_names)}"
            if proba is not None:
                pred += f" (p={proba[i]:.2f})"
            title.append(pred)
        elif proba is not None:
            title.append(f"p(tumor)={proba[i]:.2f}")
        if len(labels) == 2:
            color = _CORRECT if labels["y_true"][i] == labels["y_pred"][i] else _WRONG
        if title:
            ax.set_title("\n".join(title), fontsize=10, color=color)
    fig.colorbar(shown, ax=axes, shrink=0.8, label="Grad-CAM")
    return fig


def _is_numeric(values):
    return all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values
    ) and len(set(values)) > 2


def plot_search(search, *, scorer=None):
    """Plot the CV score against each searched hyperparameter.

    Numeric parameters get a scatter plot with the fold standard deviation
    as error bars (log scale for parameters spanning more than a decade and
    a half); categorical ones (strings, booleans, few values) get a box plot
    with the candidates drawn over it. The best candidate is drawn in red.

    Parameters
    ----------
    search : fitted ``*SearchCV``
    scorer : str, default=None
        The scorer to plot; ``None`` means the refit scorer.

    Returns
    -------
    matplotlib.figure.Figure
        One subplot per searched parameter.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skbrain.plotting import plot_search
    >>> X, y = np.random.default_rng(0).normal(size=(20, 2)), [0, 1] * 10
    >>> grid = {"C": [0.01, 0.1, 1.0, 10.0], "fit_intercept": [True, False]}
    >>> search = GridSearchCV(LogisticRegression(), grid, cv=2).fit(X, y)
    >>> fig = plot_search(search)
    >>> [ax.get_xlabel() for ax in fig.axes if ax.get_visible()]
    ['C', 'fit_intercept']
    """
    from .search import _display_name, _pick_scorers, _searched_params

    name = _pick_scorers(search, None if scorer is None else [scorer])[0]
    results = search.cv_results_
    params = _searched_params(search)
    means = np.asarray(results[f"mean_test_{name}"], dtype=float)
    stds = np.asarray(results[f"std_test_{name}"], dtype=float)
    best = int(np.argmin(results[f"rank_test_{name}"]))
    label = _display_name(search, name)

    ncols = min(3, max(1, len(params)))
    nrows = max(1, math.ceil(len(params) / ncols))
    fig = _figure(figsize=(4 * ncols, 3 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    for ax in axes.flat[len(params):]:
        ax.set_visible(False)
    rng = np.random.default_rng(0)
    for ax, param in zip(axes.flat, params, strict=False):
        idx = [i for i, p in enumerate(results["params"]) if param in p]
        values = [results["params"][i][param] for i in idx]
        y, err = means[idx], stds[idx]
        colors = ["tab:red" if i == best else "tab:blue" for i in idx]
        if _is_numeric(values):
            x = np.asarray(values, dtype=float)
            ax.errorbar(x, y, yerr=err, fmt="none", ecolor="0.7", zorder=1)
            ax.scatter(x, y, c=colors, zorder=2)
            if np.all(x > 0) and x.max() / x.min() > 30:
                ax.set_xscale("log")
        else:
            try:
                labels = [str(v) for v in sorted(set(values))]
            except TypeError:
                labels = list(dict.fromkeys(str(v) for v in values))
            position = {lab: k for k, lab in enumerate(labels)}
            x = np.array([position[str(v)] for v in values], dtype=float)
            data = [y[(x == k) & ~np.isnan(y)] for k in range(len(labels))]
            ax.boxplot(data, positions=range(len(labels)), widths=0.5, showfliers=False)
            ax.scatter(x + rng.uniform(-0.12, 0.12, len(x)), y, c=colors, zorder=2, s=18)
            ax.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 3 else 0)
        ax.set_xlabel(param)
        ax.grid(alpha=0.3)
    for row in axes:
        row[0].set_ylabel(f"CV {label}")
    fig.suptitle(f"CV {label} against each hyperparameter ({len(means)} candidates)")
    return fig
