"""Every figure is a real matplotlib Figure that saves to PNG, without pyplot state."""

import io

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image
from sklearn.pipeline import Pipeline

from skbrain import ImageResizer, SimpleCNNClassifier
from skbrain.plotting import (
    plot_calibration,
    plot_comparison,
    plot_confusion_matrix,
    plot_history,
    plot_predictions,
    plot_search,
)
from skbrain.tables import ResultsTable

GREEN, RED = "#1a7f37", "#cf222e"


def _png_size(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return Image.open(io.BytesIO(buffer.getvalue())).size


@pytest.fixture(scope="module")
def fitted(synthetic_images):
    X, y = synthetic_images
    return SimpleCNNClassifier(max_epochs=3, n_kernels=4, random_state=0).fit(X, y)


def test_predictions_from_channel_first_arrays(synthetic_images):
    X, y = synthetic_images
    pred = y.copy()
    pred[1] = 1 - pred[1]
    proba = np.column_stack([1 - pred * 0.9, pred * 0.9])
    fig = plot_predictions(X, y, pred, proba, n=6, ncols=3)
    assert isinstance(fig, Figure)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 6 and len(fig.axes) == 6
    assert shown[0].images[0].get_array().shape == (32, 32, 3)
    colors = [ax.title.get_color() for ax in shown]
    assert colors[1] == RED and colors.count(GREEN) == 5
    assert shown[1].get_title().endswith(f"(p={proba[1, 1]:.2f})")
    assert _png_size(fig)[0] > 0


def test_predictions_from_grayscale_arrays_and_files(tmp_path):
    rng = np.random.default_rng(0)
    gray = (rng.random((3, 20, 24)) * 255).astype(np.uint8)
    fig = plot_predictions(gray, ["no", "yes", "yes"], ["no", "yes", "no"], n=None,
                           class_names={"no": "healthy", "yes": "tumour"})
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert titles == ["true: healthy\npred: healthy", "true: tumour\npred: tumour",
                      "true: tumour\npred: healthy"]
    assert fig.axes[0].images[0].get_cmap().name == "gray"

    paths = []
    for i in range(2):
        path = tmp_path / f"scan {i}.png"
        Image.fromarray((rng.random((600, 500)) * 255).astype(np.uint8)).save(path)
        paths.append(str(path))
    fig = plot_predictions(paths, [0, 1], [0, 1], [0.2, 0.7])
    arrays = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert max(arrays[0].shape) == 256  # files are shown as thumbnails


def test_predictions_check_their_input():
    with pytest.raises(ValueError, match="one entry per image"):
        plot_predictions(np.zeros((3, 8, 8)), [0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="y_proba has 2 entries for 3 images"):
        plot_predictions(np.zeros((3, 8, 8)), [0, 1, 1], [0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="shape"):
        plot_predictions(np.zeros((2, 2, 2, 8, 8)), [0, 1], [0, 1])


def test_confusion_matrix_counts_and_shares():
    y_true = [0, 0, 0, 1, 1, 1, 1]
    y_pred = [0, 0, 1, 1, 1, 1, 0]
    fig = plot_confusion_matrix(y_true, y_pred)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["2", "1", "1", "3"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["no tumor", "tumor"]
    shares = plot_confusion_matrix(y_true, y_pred, normalize=True, labels=[1, 0])
    assert shares.axes[0].texts[0].get_text() == "0.75\n(3)"


def test_history_of_an_estimator_and_of_a_pipeline(fitted, synthetic_images):
    fig = plot_history(fitted)
    line = fig.axes[0].lines[0]
    assert list(line.get_xdata()) == [1, 2, 3]
    np.testing.assert_allclose(line.get_ydata(), fitted.history_[:, "train_loss"])

    X, y = synthetic_images
    clf = SimpleCNNClassifier(max_epochs=2, n_kernels=4, early_stopping=True,
                              validation_fraction=0.25, random_state=0)
    images = [np.moveaxis(x, 0, -1) for x in X]
    pipe = Pipeline([("resize", ImageResizer(24)), ("cnn", clf)]).fit(images, y)
    fig = plot_history(pipe)
    labels = [line.get_label() for ax in fig.axes for line in ax.lines]
    assert labels == ["train loss", "valid loss", "valid accuracy"]
    assert len(fig.axes) == 2


def test_history_of_an_unfitted_estimator_is_a_clear_error():
    with pytest.raises(ValueError, match="no training history"):
        plot_history(SimpleCNNClassifier())


def test_comparison_draws_one_bar_per_model_and_metric_with_error_bars():
    records = [{"model": m, "accuracy": a, "f1": f, "fit_seconds": 1.0}
               for m, a, f in [("wide", 0.8, 0.85), ("wide", 0.9, 0.88),
                               ("deep", 0.7, 0.72), ("deep", 0.74, 0.8)]]
    fig = plot_comparison(ResultsTable(records))
    ax = fig.axes[0]
    bars = [p for p in ax.patches]
    assert len(bars) == 4
    assert sorted(round(b.get_height(), 3) for b in bars) == [0.72, 0.76, 0.85, 0.865]
    assert len(ax.collections) == 2  # one error-bar set per model
    assert [t.get_text() for t in ax.get_xticklabels()] == ["accuracy", "F1"]
    assert "over 2 splits" in ax.get_title()
    with pytest.raises(ValueError, match="none of the metrics"):
        plot_comparison(ResultsTable(records), metrics=("roc_auc",))


def test_calibration_curve_points_are_bin_means():
    y = np.array([0, 0, 1, 1, 1, 0])
    p = np.array([0.05, 0.15, 0.85, 0.95, 0.9, 0.92])
    fig = plot_calibration(y, np.column_stack([1 - p, p]), n_bins=2)
    top, bottom = fig.axes
    model_line = top.lines[1]
    np.testing.assert_allclose(model_line.get_xdata(), [0.1, 0.905])
    np.testing.assert_allclose(model_line.get_ydata(), [0.0, 0.75])
    assert [round(b.get_height()) for b in bottom.patches] == [2, 4]
    assert top.get_title().startswith("calibration (ECE ")


def test_figures_leave_no_pyplot_state_behind(fitted):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plot_history(fitted)
    plot_confusion_matrix([0, 1], [1, 1])
    assert plt.get_fignums() == before


@pytest.fixture(scope="module")
def grid_search():
    """A fast multi-metric search over a numeric and a categorical parameter."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    rng = np.random.default_rng(0)
    y = np.array([0, 1] * 20)
    X = rng.normal(size=(40, 2)) + y[:, None]
    grid = {"C": [0.01, 0.1, 1.0, 10.0], "fit_intercept": [True, False]}
    return GridSearchCV(LogisticRegression(), grid, cv=2, scoring=["accuracy", "roc_auc"],
                        refit="accuracy").fit(X, y)


def test_search_draws_one_panel_per_parameter_with_the_best_in_red(grid_search):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig = plot_search(grid_search, scorer="roc_auc")
    assert isinstance(fig, Figure) and plt.get_fignums() == before
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_xlabel() for ax in panels] == ["C", "fit_intercept"]
    assert panels[0].get_xscale() == "log" and panels[0].get_ylabel() == "CV roc_auc"
    assert [t.get_text() for t in panels[1].get_xticklabels()] == ["False", "True"]
    best = int(np.argmin(grid_search.cv_results_["rank_test_roc_auc"]))
    colors = panels[0].collections[-1].get_facecolors()
    assert np.argmax(colors[:, 0] - colors[:, 2]) == best  # the red point
    assert _png_size(fig)[0] > 0
    with pytest.raises(ValueError, match="no scorer 'f1'"):
        plot_search(grid_search, scorer="f1")
