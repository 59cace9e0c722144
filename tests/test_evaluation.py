"""compare_models, and the old import paths of the scores, splitters and tables."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skbrain import SimpleCNNClassifier
from skbrain.evaluation import compare_models


def _flat_logistic():
    """A fast non-CNN estimator: compare_models takes any classifier."""
    return make_pipeline(
        FunctionTransformer(lambda X: np.asarray(X).reshape(len(X), -1)),
        LogisticRegression(max_iter=200),
    )


# ----------------------------------------------------------------- comparison
def test_compare_models_trains_fresh_clones_on_the_same_splits(synthetic_images):
    X, y = synthetic_images
    groups = np.arange(len(y)) // 2  # pairs of "duplicates"
    cnn = SimpleCNNClassifier(max_epochs=2, n_kernels=4, random_state=0)
    table = compare_models({"cnn": cnn, "logistic": _flat_logistic()}, X, y, groups,
                           n_repeats=2, random_state=0)
    assert not hasattr(cnn, "net_")
    assert table.models == ["cnn", "logistic"]
    assert table.metrics == ("accuracy", "precision", "recall", "f1", "roc_auc", "fit_seconds")
    assert len(table.records) == 4
    by_split = {}
    for record in table.records:
        assert 0 <= record["f1"] <= 1 and record["fit_seconds"] > 0
        assert record["n_train"] + record["n_test"] == len(y)
        by_split.setdefault(record["split"], set()).add(record["n_test"])
    assert all(len(sizes) == 1 for sizes in by_split.values())
    # The logistic model separates the synthetic blobs well.
    assert table.summary("accuracy")["logistic"][0] > 0.6


def test_compare_models_cv_options(synthetic_images):
    X, y = synthetic_images
    estimators = {"logistic": _flat_logistic()}
    kfold = compare_models(estimators, X, y, cv=4, n_repeats=2)
    assert len(kfold.records) == 8
    assert {r["n_test"] for r in kfold.records} == {10}
    explicit = [(np.arange(30), np.arange(30, 40))]
    single = compare_models(estimators, X, y, cv=explicit)
    assert single.records[0]["n_test"] == 10
    with pytest.raises(ValueError, match="n_repeats only applies"):
        compare_models(estimators, X, y, cv=explicit, n_repeats=2)
    with pytest.raises(ValueError, match="non-empty dict"):
        compare_models([], X, y)
    with pytest.raises(ValueError, match="different lengths"):
        compare_models(estimators, X[:5], y)


def test_compare_models_prints_progress_when_verbose(synthetic_images, capsys):
    X, y = synthetic_images
    compare_models({"logistic": _flat_logistic()}, X, y, n_repeats=2, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("[compare] logistic  split 1/2")


def test_compare_models_multiclass_reports_macro_scores(synthetic_images):
    X, y = synthetic_images
    y3 = np.where(y == 1, np.arange(len(y)) % 2 + 1, 0)  # three classes
    table = compare_models({"logistic": _flat_logistic()}, X, y3, n_repeats=2)
    assert table.metrics == ("accuracy", "balanced_accuracy", "f1_macro", "f1_weighted",
                             "roc_auc", "fit_seconds")
    record = table.records[0]
    assert 0 <= record["f1_macro"] <= 1 and {"recall_0", "recall_1", "recall_2"} <= set(record)
    assert "macro F1" in str(table)


# ------------------------------------------------------------ old import paths
MOVED = {
    "skbrain.metrics": ["DEFAULT_METRICS", "METRIC_LABELS", "MULTICLASS_METRICS",
                        "classification_scores", "default_scoring",
                        "expected_calibration_error", "is_multiclass"],
    "skbrain.model_selection": ["StratifiedGroupShuffleSplit", "read_split_file", "study_split",
                                "train_test_split_grouped"],
    "skbrain.tables": ["ResultsTable", "scores_table"],
}


def test_moved_names_still_import_from_evaluation_search_and_skbrain():
    import importlib

    import skbrain
    from skbrain import evaluation, metrics, model_selection, plotting, search

    for module_name, names in MOVED.items():
        module = importlib.import_module(module_name)
        for name in names:
            assert getattr(evaluation, name) is getattr(module, name), name
            assert name in module.__all__ and name not in evaluation.__all__
    assert search.binary_scoring is metrics.binary_scoring
    assert search.grouped_cv is model_selection.grouped_cv
    with pytest.warns(FutureWarning, match="moved to skbrain.plotting.plot_search"):
        from skbrain.search import plot_search
    assert plot_search is plotting.plot_search
    assert skbrain.classification_scores is metrics.classification_scores
    assert skbrain.StratifiedGroupShuffleSplit is model_selection.StratifiedGroupShuffleSplit
    assert skbrain.compare_models is compare_models
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        search.nothing  # noqa: B018


def test_compare_models_scores_the_positive_column_of_string_labels():
    rng = np.random.default_rng(0)
    y = np.where(rng.random(60) < 0.5, "yes", "no")
    X = rng.normal(size=(60, 1, 2, 2)) + (y == "yes")[:, None, None, None]
    table = compare_models({"logistic": _flat_logistic()}, X, y, pos_label="yes",
                           n_repeats=1, random_state=0)
    record = table.records[0]
    assert record["roc_auc"] > 0.8 and record["f1"] > 0.6
