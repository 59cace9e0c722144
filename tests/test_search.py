"""Tests of skbrain.search: shipped spaces, leak-free CV, scoring, reports."""

import csv
import warnings

import matplotlib
import numpy as np
import pytest
import torch
from scipy.stats import loguniform
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import ParameterSampler, RandomizedSearchCV, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from skbrain import ImageResizer, classifiers
from skbrain._base import BaseCNNClassifier
from skbrain.datasets import make_synthetic_mri
from skbrain.metrics import binary_scoring
from skbrain.model_selection import grouped_cv
from skbrain.plotting import plot_search
from skbrain.search import (
    STUDY_ARCHITECTURES,
    architecture_scores,
    check_n_jobs_device,
    default_search_space,
    run_search,
    search_report,
)
from skbrain.tables import ResultsTable

matplotlib.use("Agg")

HAND_MADE = [
    "SimpleCNNClassifier",
    "TwoConvCNNClassifier",
    "WideCNNClassifier",
    "DeepCNNClassifier",
    "PyramidCNNClassifier",
    "CompactCNNClassifier",
    "CNNClassifier",
]
STUDY_NETS = [name for name in HAND_MADE if name != "CompactCNNClassifier"]


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    # Tiny networks train tens of times faster on one thread than on two
    # when the cores are busy with other work.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def tiny(n_samples=24, image_size=32, random_state=0):
    data = make_synthetic_mri(n_samples, image_size=image_size, random_state=random_state)
    return data.data, np.asarray(data.target)


class _PretrainedLike(BaseCNNClassifier):
    """Stands in for the pretrained families: their parameter names, no network."""

    def __init__(self, pretrained=True, freeze="backbone", dropout=0.2, *, lr=1e-3,
                 max_epochs=10, batch_size=16, **kwargs):
        self.pretrained = pretrained
        self.freeze = freeze
        self.dropout = dropout
        super().__init__(lr=lr, max_epochs=max_epochs, batch_size=batch_size, **kwargs)


# --------------------------------------------------------------------- spaces
@pytest.mark.parametrize("name", STUDY_NETS)
def test_hand_made_space_covers_the_study_ranges(name):
    estimator = getattr(classifiers, name)()
    space = default_search_space(estimator)
    assert set(space) <= set(estimator.get_params())
    assert space["n_kernels"].support() == (25, 75)
    assert space["kernel_size"] == [1, 3, 5, 7]
    assert space["pool_size"].support() == (2, 8)
    assert space["dropout"].support() == pytest.approx((0.0, 0.9))
    assert space["max_epochs"].support() == (5, 40)
    low, high = space["batch_size"].support()
    assert low <= 3 and high >= 11
    assert space["lr"].support() == pytest.approx((1e-4, 3e-2))
    assert space["lr"].median() == pytest.approx(np.sqrt(1e-4 * 3e-2))  # log-uniform
    assert ("n_kernels_2" in space) == ("n_kernels_2" in estimator.get_params())
    assert ("architecture" in space) == (name == "CNNClassifier")


def test_compact_space_keeps_the_network_small():
    space = default_search_space(classifiers.CompactCNNClassifier())
    assert space["n_kernels"].support() == (8, 48)
    assert space["kernel_size"] == [3, 5]
    assert space["pool_size"].support() == (2, 4)
    assert space["max_epochs"].support() == (5, 40)


def test_cnn_space_searches_the_study_architectures():
    space = default_search_space(classifiers.CNNClassifier())
    assert space["architecture"] == list(STUDY_ARCHITECTURES)
    assert set(STUDY_ARCHITECTURES) == {"simple", "two-conv", "wide", "deep", "pyramid"}


def test_pretrained_space_is_keyed_off_the_parameters_present():
    space = default_search_space(_PretrainedLike())
    assert set(space) == {"lr", "freeze", "dropout", "max_epochs", "batch_size"}
    assert "backbone" in space["freeze"] and "none" in space["freeze"]
    assert space["lr"].median() < 1e-3
    assert default_search_space(_PretrainedLike(freeze=True))["freeze"] == [True, False]


def test_pretrained_classes_have_spaces():
    pretrained = pytest.importorskip("skbrain.pretrained")
    names = ("EfficientNetClassifier", "ResNetClassifier", "VGGClassifier", "TimmClassifier")
    found = [getattr(pretrained, name) for name in names if hasattr(pretrained, name)]
    assert found
    for cls in found:
        estimator = cls(pretrained=False)
        space = default_search_space(estimator)
        assert set(space) == {"lr", "freeze", "dropout", "max_epochs", "batch_size"}
        for params in ParameterSampler(space, 50, random_state=0):
            estimator.set_params(**params)
            estimator._check_training_params()
            estimator._module_spec()


def test_a_sampled_pretrained_candidate_fits():
    pretrained = pytest.importorskip("skbrain.pretrained")
    estimator = pretrained.ResNetClassifier(depth=18, pretrained=False, device="cpu",
                                            random_state=0)
    params = next(iter(ParameterSampler(default_search_space(estimator), 1, random_state=0)))
    X, y = tiny(8, image_size=32)
    estimator.set_params(**params).set_params(max_epochs=1, batch_size=8).fit(X, y)
    assert estimator.predict_proba(X).shape == (8, 2)


def test_pipeline_step_prefix():
    pipe = Pipeline([("scale", FunctionTransformer()), ("cnn", classifiers.WideCNNClassifier())])
    space = default_search_space(pipe, step="cnn")
    assert set(space) == {f"cnn__{k}" for k in default_search_space(pipe.named_steps["cnn"])}
    assert default_search_space(pipe).keys() == space.keys()  # the last step by default
    with pytest.raises(ValueError, match="step='net' is not a step.*'scale', 'cnn'"):
        default_search_space(pipe, step="net")
    with pytest.raises(TypeError, match="step='cnn'.*not a Pipeline"):
        default_search_space(classifiers.WideCNNClassifier(), step="cnn")
    with pytest.raises(TypeError, match="no search space for FunctionTransformer"):
        default_search_space(pipe, step="scale")


def test_unknown_estimator_raises_type_error():
    with pytest.raises(TypeError, match="no search space for LogisticRegression"):
        default_search_space(LogisticRegression())

    class Bare(BaseCNNClassifier):
        pass

    with pytest.raises(TypeError, match="no search space for Bare"):
        default_search_space(Bare())


@pytest.mark.parametrize("name", HAND_MADE)
def test_fifty_draws_build_run_and_fit(name):
    """Every sampled candidate is accepted, builds its network and runs a batch."""
    estimator = getattr(classifiers, name)(device="cpu", random_state=0)
    draws = list(ParameterSampler(default_search_space(estimator), 50, random_state=0))
    batch = torch.rand(2, 3, 32, 32)
    for params in draws:
        estimator.set_params(**params)
        estimator._check_training_params()
        module_class, kwargs = estimator._module_spec()
        module = module_class(in_channels=3, n_classes=2, **kwargs).train()
        out = module(batch)
        assert out.shape == (2, 2) and torch.isfinite(out).all()

    X, y = tiny(8, image_size=24)
    for params in draws[:5]:
        estimator.set_params(**params).set_params(max_epochs=1, batch_size=8)
        proba = estimator.fit(X, y).predict_proba(X)
        assert proba.shape == (8, 2)
        assert np.allclose(proba.sum(axis=1), 1)


# -------------------------------------------------------------------- leak-free CV
def test_grouped_cv_keeps_each_group_on_one_side():
    cv = grouped_cv(3, random_state=0)
    y = np.array([0, 1] * 15)
    groups = np.repeat(np.arange(10), 3)
    y = np.where(groups % 2 == 0, 0, 1)  # a duplicate group shares its label
    for train, test in cv.split(np.zeros(len(y)), y, groups):
        assert not set(groups[train]) & set(groups[test])
        assert set(y[test]) == {0, 1}


def test_run_search_with_groups_does_not_leak_duplicates():
    """A memorising model scores chance on grouped folds, but ~1 when copies leak."""
    rng = np.random.default_rng(0)
    originals = rng.normal(size=(30, 16))
    labels = rng.integers(0, 2, size=30)
    X, y = np.repeat(originals, 3, axis=0), np.repeat(labels, 3)
    groups = np.repeat(np.arange(30), 3)
    knn = {"n_neighbors": [1]}

    grouped = run_search(KNeighborsClassifier(), X, y, groups, param_distributions=knn,
                         n_iter=1, scoring="accuracy")
    leaky = run_search(KNeighborsClassifier(), X, y, param_distributions=knn, n_iter=1,
                       scoring="accuracy")
    assert leaky.best_score_ == 1.0
    assert grouped.best_score_ < 0.75
    assert isinstance(grouped.cv, type(grouped_cv()))
    assert isinstance(leaky.cv, StratifiedKFold)


def test_a_clone_of_a_fitted_estimator_keeps_no_state():
    X, y = tiny(8, image_size=24)
    callbacks = []
    fitted = classifiers.WideCNNClassifier(
        n_kernels=4, max_epochs=1, callbacks=callbacks, device="cpu", random_state=0
    ).fit(X, y)
    copy = clone(fitted)
    for attribute in ("net_", "classes_", "image_shape_", "device_", "n_features_in_"):
        assert hasattr(fitted, attribute)
        assert not hasattr(copy, attribute)
    assert copy.callbacks is not fitted.callbacks
    assert copy.get_params()["n_kernels"] == 4


# ----------------------------------------------------------------------- scoring
@pytest.fixture(scope="module")
def mixed_search():
    """A tiny multi-metric search over a numeric and a categorical parameter."""
    X, y = tiny()
    search = RandomizedSearchCV(
        classifiers.CNNClassifier(n_kernels=6, max_epochs=2, batch_size=8, device="cpu",
                                  random_state=0),
        {"architecture": ["wide", "deep"], "lr": loguniform(1e-3, 3e-2)},
        n_iter=4,
        cv=2,
        scoring={"f1": "f1", "recall": "recall", "roc_auc": "roc_auc"},
        refit="f1",
        random_state=0,
        error_score="raise",
    )
    return search.fit(X, y)


def test_multi_metric_scoring_with_roc_auc(mixed_search):
    results = mixed_search.cv_results_
    for name in ("f1", "recall", "roc_auc"):
        scores = np.asarray(results[f"mean_test_{name}"])
        assert np.isfinite(scores).all() and ((scores >= 0) & (scores <= 1)).all()
    best = np.argmin(results["rank_test_f1"])
    assert mixed_search.best_score_ == results["mean_test_f1"][best]
    assert mixed_search.best_estimator_.predict_proba(tiny()[0][:3]).shape == (3, 2)


def test_string_labels_need_a_positive_label():
    X, y01 = tiny(16)
    y_text = np.where(y01 == 1, "yes", "no")
    estimator = classifiers.WideCNNClassifier(n_kernels=4, max_epochs=1, batch_size=8,
                                              device="cpu", random_state=0)
    names = {"f1": "f1", "recall": "recall", "roc_auc": "roc_auc"}

    def search(y, scoring):
        return RandomizedSearchCV(estimator, {"n_kernels": [4]}, n_iter=1, cv=2,
                                  scoring=scoring, refit="f1", random_state=0,
                                  error_score="raise").fit(X, y)

    with pytest.raises(ValueError, match="pos_label"):
        search(y_text, names)
    text = search(y_text, binary_scoring(names, y_text)).cv_results_
    numeric = search(y01, names).cv_results_
    for name in names:
        assert text[f"mean_test_{name}"] == pytest.approx(numeric[f"mean_test_{name}"])
    with pytest.raises(ValueError, match="pos_label='maybe' is not a label"):
        binary_scoring("f1", y_text, pos_label="maybe")


# ----------------------------------------------------------------------- reports
def test_search_report_ranks_candidates(mixed_search, tmp_path):
    report = search_report(mixed_search)
    assert isinstance(report, ResultsTable)
    assert report.metrics == ("f1", "recall", "roc_auc", "fit_seconds")
    assert len(report.rows) == 4
    results = mixed_search.cv_results_
    ranks = [r["rank"] for r in report.records[:: mixed_search.n_splits_]]
    assert ranks == sorted(ranks) and ranks[0] == 1
    best = report.rows[0]
    architecture = mixed_search.best_params_["architecture"]
    assert best["model"].startswith(f"architecture={architecture}, lr=")
    assert best["f1_mean"] == pytest.approx(mixed_search.best_score_)
    assert best["fit_seconds_mean"] == pytest.approx(results["mean_fit_time"][
        mixed_search.best_index_])
    assert report.records[0]["candidate"] == mixed_search.best_index_
    assert report.records[0]["lr"] == mixed_search.best_params_["lr"]

    text = str(report)
    assert "±" in text and "architecture=" in text.splitlines()[2]
    assert len(report.to_markdown().splitlines()) == 2 + 4
    report.to_csv(tmp_path / "report.csv")
    with open(tmp_path / "report.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert float(rows[0]["f1_mean"]) == pytest.approx(mixed_search.best_score_)

    by_auc = search_report(mixed_search, scorers=["roc_auc"])
    assert by_auc.metrics == ("roc_auc", "fit_seconds")
    means = [row["roc_auc_mean"] for row in by_auc.rows]
    assert means == sorted(means, reverse=True)
    with pytest.raises(ValueError, match="no scorer 'accuracy'"):
        search_report(mixed_search, scorers="accuracy")


def test_search_report_of_a_single_metric_pipeline_search():
    X, y = tiny(16, image_size=24)
    pipe = Pipeline([("cnn", classifiers.WideCNNClassifier(max_epochs=1, batch_size=8,
                                                          device="cpu", random_state=0))])
    search = RandomizedSearchCV(pipe, {"cnn__n_kernels": [4, 6], "cnn__dropout": [0.0]},
                                n_iter=2, cv=2, scoring="recall", random_state=0).fit(X, y)
    report = search_report(search)
    assert report.metrics == ("recall", "fit_seconds")
    assert sorted(report.models) == ["n_kernels=4, dropout=0.0", "n_kernels=6, dropout=0.0"]
    assert report.rows[0]["recall_mean"] == pytest.approx(search.best_score_)


def test_plot_search_draws_one_panel_per_parameter(mixed_search):
    import matplotlib.pyplot as plt

    fig = plot_search(mixed_search, scorer="roc_auc")
    try:
        panels = [ax for ax in fig.axes if ax.get_visible()]
        assert [ax.get_xlabel() for ax in panels] == ["architecture", "lr"]
        assert [t.get_text() for t in panels[0].get_xticklabels()] == ["deep", "wide"]
        assert panels[1].get_xscale() == "linear"
        assert panels[0].get_ylabel() == "CV roc_auc"
    finally:
        plt.close(fig)


def test_architecture_search_reports_each_architecture():
    X, y = tiny()
    search = run_search(
        classifiers.CNNClassifier(n_kernels=6, n_kernels_2=4, max_epochs=1, batch_size=8,
                                  device="cpu"),
        X, y,
        param_distributions={"architecture": list(STUDY_ARCHITECTURES)},
        n_iter=5, cv=2, scoring=["f1", "roc_auc"], error_score="raise",
    )
    table = architecture_scores(search)
    assert table.metrics == ("f1", "roc_auc", "fit_seconds")
    assert sorted(table.models) == sorted(STUDY_ARCHITECTURES)
    assert {r["candidates"] for r in table.records} == {1}
    best = [row["f1_mean"] for row in table.rows]
    assert best == sorted(best, reverse=True)
    assert best[0] == pytest.approx(search.best_score_)
    assert "wide" in str(table)
    by_auc = architecture_scores(search, scorers="roc_auc")
    assert by_auc.metrics == ("roc_auc", "fit_seconds")
    with pytest.raises(ValueError, match="did not vary 'lr'"):
        architecture_scores(search, param="lr")


# -------------------------------------------------------------------- run_search
def test_run_search_is_repeatable_and_seeds_the_estimator():
    X, y = tiny(16)
    estimator = classifiers.WideCNNClassifier(max_epochs=1, batch_size=8, device="cpu")
    space = {"n_kernels": [4, 6, 8], "lr": loguniform(1e-3, 1e-2)}
    first = run_search(estimator, X, y, param_distributions=space, n_iter=2, cv=2,
                       random_state=3)
    second = run_search(estimator, X, y, param_distributions=space, n_iter=2, cv=2,
                        random_state=3)
    assert first.best_params_ == second.best_params_
    assert np.array_equal(first.cv_results_["mean_test_f1"], second.cv_results_["mean_test_f1"])
    assert first.estimator.random_state == 3
    assert estimator.random_state is None
    assert first.refit == "f1"


def test_run_search_uses_the_default_space():
    X, y = tiny(12, image_size=24)
    pipe = Pipeline([("cnn", classifiers.SimpleCNNClassifier(device="cpu"))])
    # cap the sampled epochs and batch sizes so the test stays quick
    space = default_search_space(pipe)
    space.update({"cnn__max_epochs": [1], "cnn__batch_size": [6]})
    search = run_search(pipe, X, y, param_distributions=space, n_iter=2, cv=2,
                        error_score="raise")
    assert set(search.best_params_) == set(default_search_space(pipe))


def test_check_n_jobs_device_warns_for_one_gpu():
    with pytest.warns(UserWarning, match="n_jobs=2 runs 2 fits at the same time on one GPU"):
        assert check_n_jobs_device(2, "cuda")
    with pytest.warns(UserWarning, match="one Dask worker per GPU"):
        check_n_jobs_device(3, "cuda:0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not check_n_jobs_device(1, "cuda")
        assert not check_n_jobs_device(None, "cuda")
        assert not check_n_jobs_device(4, "cpu")
        if not torch.cuda.is_available():
            assert not check_n_jobs_device(4, "auto")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_the_readme_search_runs_on_cuda():
    """The user story: a Pipeline behind ImageResizer, RandomizedSearchCV(cv=3), F1, on CUDA."""
    X, y = tiny(30, image_size=40)
    images = [np.stack([x] * 3, axis=-1) for x in X]
    pipe = Pipeline([("resize", ImageResizer(32)),
                     ("cnn", classifiers.WideCNNClassifier(max_epochs=2, random_state=0))])
    search = RandomizedSearchCV(
        pipe, {"cnn__n_kernels": [4, 8], "cnn__kernel_size": [3, 5], "cnn__dropout": [0.0, 0.3]},
        n_iter=2, cv=3, scoring="f1", random_state=0, error_score="raise",
    ).fit(images, y)
    best = search.best_estimator_.named_steps["cnn"]
    assert best.device_ == "cuda"
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert set(search.predict(images)) <= set(y)
