"""Leave-one-collection-out evaluation on small generated collections."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import roc_auc_score
from sklearn.utils import Bunch

from skbrain import SimpleCNNClassifier, make_synthetic_mri
from skbrain.sites import (
    balanced_collection_indices,
    grouped_bootstrap,
    leave_one_collection_out,
    site_scores,
)


class _MeanBrightness(ClassifierMixin, BaseEstimator):
    """Calls an image tumor when it is brighter than the training images' midpoint."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        means = X.reshape(len(X), -1).mean(1)
        self.cut_ = (means[y == 0].mean() + means[y == 1].mean()) / 2
        self.n_seen_ = len(X)
        return self

    def predict_proba(self, X):
        p = 1 / (1 + np.exp(-(X.reshape(len(X), -1).mean(1) - self.cut_)))
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def _collection(n, offset, seed):
    rng = np.random.RandomState(seed)
    y = np.arange(n) % 2
    X = rng.normal(offset, 1.0, size=(n, 1, 4, 4)) + 2.0 * y[:, None, None, None]
    return Bunch(data=X, target=y, target_names=np.array(["no", "yes"]),
                 groups=np.arange(n) // 2)


def test_site_scores_counts_recall_and_specificity_at_the_models_threshold():
    scores = site_scores([0, 0, 0, 1, 1], [0.1, 0.7, 0.2, 0.9, 0.4], [0, 1, 0, 1, 0],
                         groups=[0, 0, 1, 1, 2], n_bootstrap=100)
    assert scores["recall"] == 0.5
    assert scores["specificity"] == pytest.approx(2 / 3)
    assert scores["balanced_accuracy"] == pytest.approx((0.5 + 2 / 3) / 2)
    assert scores["roc_auc"] == pytest.approx(roc_auc_score([0, 0, 0, 1, 1],
                                                            [0.1, 0.7, 0.2, 0.9, 0.4]))
    assert scores["n"] == 5 and scores["n_groups"] == 3


def test_site_scores_gives_recall_per_tumor_type():
    scores = site_scores([0, 1, 1, 1], [0.1, 0.9, 0.8, 0.2], subtype=[1, 0, 0, 2],
                         subtype_names=["glioma", "notumor", "pituitary"], n_bootstrap=10)
    assert scores["recall_glioma"] == 1.0
    assert scores["recall_pituitary"] == 0.0
    assert "recall_notumor" not in scores


def test_grouped_bootstrap_is_wider_when_groups_hold_correlated_images():
    rng = np.random.RandomState(0)
    n_groups = 20
    y = np.repeat(np.arange(n_groups) % 2, 10)
    # Each group's ten images share one score: the data hold 20 independent values, not 200.
    score = np.repeat(rng.normal(size=n_groups), 10) + 0.5 * y
    groups = np.repeat(np.arange(n_groups), 10)
    by_group = grouped_bootstrap(roc_auc_score, y, score, groups, n_bootstrap=300)
    by_image = grouped_bootstrap(roc_auc_score, y, score, None, n_bootstrap=300)
    assert by_group[0] <= roc_auc_score(y, score) <= by_group[1]
    assert by_group[1] - by_group[0] > 1.5 * (by_image[1] - by_image[0])


def test_grouped_bootstrap_is_nan_without_both_classes():
    assert np.isnan(grouped_bootstrap(roc_auc_score, [1, 1], [0.2, 0.3], n_bootstrap=5)[0])


def test_balanced_collection_indices_weigh_each_collection_alike():
    collection = np.array([0] * 10 + [1] * 3 + [2] * 4)
    idx = balanced_collection_indices(collection, random_state=0)
    assert np.bincount(collection[idx]).tolist() == [10, 10, 10]
    # Every image of a small collection appears, three or four times.
    counts = np.bincount(idx, minlength=len(collection))
    assert set(counts[10:13].tolist()) <= {3, 4} and counts[:10].tolist() == [1] * 10
    assert np.array_equal(idx, balanced_collection_indices(collection, random_state=0))


def test_balanced_collection_indices_weights_tilt_a_collection():
    collection = np.array(["a"] * 10 + ["b"] * 3 + ["c"] * 4)
    idx = balanced_collection_indices(collection, weights={"c": 2}, random_state=0)
    assert [int((collection[idx] == n).sum()) for n in "abc"] == [10, 10, 20]
    # Every image of the weighted collection is repeated five times, none dropped.
    assert np.bincount(idx, minlength=len(collection))[13:].tolist() == [5] * 4
    y = np.array([1, 0] * 5 + [1, 1, 0] + [1, 0, 0, 0])
    by_pair = balanced_collection_indices(collection, y=y, weights={"b": 1.5}, random_state=0)
    pairs = [f"{c}/{t}" for c, t in zip(collection[by_pair], y[by_pair], strict=True)]
    # The largest pair has 5; b's two pairs get 1.5 times that (rounded).
    assert {p: pairs.count(p) for p in ("a/1", "b/0", "b/1", "c/0")} == {
        "a/1": 5, "b/0": 8, "b/1": 8, "c/0": 5}
    with pytest.raises(ValueError, match=r"weights names \['d'\]"):
        balanced_collection_indices(collection, weights={"d": 2})
    with pytest.raises(ValueError, match=r"weights\['b'\] = 0.1: expected a positive weight "
                                         r"that keeps all 3"):
        balanced_collection_indices(collection, weights={"b": 0.1})


def test_leave_one_collection_out_passes_weights_of_the_training_collections():
    collections = {"a": _collection(40, 0.0, 0), "b": _collection(30, 0.5, 1),
                   "c": _collection(20, -0.5, 2)}
    out = leave_one_collection_out(_MeanBrightness(), collections, balance=True,
                                   weights={"c": 2}, drop_near_copies=False, n_bootstrap=20,
                                   verbose=False, return_models=True)
    # a left out: b 30 and c 2 x 30; c left out: its weight has no say, a and b 40 each.
    assert out.models["a"].n_seen_ == 90 and out.models["b"].n_seen_ == 120
    assert out.models["c"].n_seen_ == 80
    with pytest.raises(ValueError, match="with balance=True"):
        leave_one_collection_out(_MeanBrightness(), collections, weights={"c": 2})
    with pytest.raises(ValueError, match=r"weights must name collections out of"):
        leave_one_collection_out(_MeanBrightness(), collections, balance=True,
                                 weights={"z": 2})


def test_leave_one_collection_out_trains_on_the_others_and_scores_the_one_left_out():
    collections = {"a": _collection(40, 0.0, 0), "b": _collection(30, 0.5, 1),
                   "c": _collection(20, -0.5, 2)}
    mask = np.zeros(20, dtype=bool)
    mask[:10] = True
    out = leave_one_collection_out(_MeanBrightness(), collections, balance=True,
                                   subsets={"c": {"first half": mask}}, drop_near_copies=False,
                                   n_bootstrap=50, verbose=False, return_models=True)
    assert [r["held_out"] for r in out.records] == ["a", "b", "c", "c"]
    assert out.records[-1]["subset"] == "first half" and out.records[-1]["n"] == 10
    # Balanced: each of the two training collections counts as much as the larger.
    assert out.models["a"].n_seen_ == 60 and out.models["c"].n_seen_ == 80
    assert out.records[0]["trained_on"] == "b + c"
    for r in out.records:
        assert r["roc_auc"] > 0.8
        assert r["roc_auc_low"] <= r["roc_auc"] <= r["roc_auc_high"]
    assert "c (first half)" in str(out.table)
    # Each held-out image's probability, as the fold's model gives it.
    for name, model in out.models.items():
        np.testing.assert_allclose(out.proba[name],
                                   model.predict_proba(collections[name].data)[:, 1])


def test_leave_one_collection_out_holds_out_only_the_named_collections():
    collections = {"a": _collection(40, 0.0, 0), "b": _collection(30, 0.5, 1),
                   "c": _collection(20, -0.5, 2)}
    every = leave_one_collection_out(_MeanBrightness(), collections, balance=True,
                                     drop_near_copies=False, n_bootstrap=50, verbose=False,
                                     return_models=True)
    one = leave_one_collection_out(_MeanBrightness(), collections, balance=True,
                                   drop_near_copies=False, n_bootstrap=50, verbose=False,
                                   return_models=True, held_out=["c"])
    assert [r["held_out"] for r in one.records] == ["c"] and list(one.models) == ["c"]
    # The fold is the same fold as in the full run (its seed does not depend on the others).
    assert one.records[0] == every.records[-1] | {"fit_seconds": one.records[0]["fit_seconds"]}
    with pytest.raises(ValueError, match="held_out must be a list"):
        leave_one_collection_out(_MeanBrightness(), collections, held_out="c")
    with pytest.raises(ValueError, match="held_out must be a list"):
        leave_one_collection_out(_MeanBrightness(), collections, held_out=["z"])


class _Recorder(_MeanBrightness):
    def fit(self, X, y):
        self.y_seen_ = np.asarray(y)
        self.offset_seen_ = X.reshape(len(X), -1).mean(1) - 2.0 * np.asarray(y)
        return super().fit(X, y)


def test_balance_by_collection_and_class_leaves_the_label_independent_of_the_collection():
    def lopsided(n_yes, n_no, offset, seed):
        rng = np.random.RandomState(seed)
        y = np.r_[np.ones(n_yes, int), np.zeros(n_no, int)]
        X = rng.normal(offset, 0.01, size=(len(y), 1, 4, 4)) + 2.0 * y[:, None, None, None]
        return Bunch(data=X, target=y, target_names=np.array(["no", "yes"]),
                     groups=np.arange(len(y)))

    collections = {"a": lopsided(30, 5, 10.0, 0), "b": lopsided(4, 12, -10.0, 1),
                   "c": lopsided(5, 5, 0.0, 2)}
    out = leave_one_collection_out(_Recorder(), collections, balance="collection_and_class",
                                   drop_near_copies=False, n_bootstrap=20, verbose=False,
                                   return_models=True, held_out=["c"])
    model = out.models["c"]
    from_a = model.offset_seen_ > 5
    # Every (collection, class) pair as large as the largest (a's 30 tumors): 4 x 30.
    assert len(model.y_seen_) == 120
    assert [int(((from_a == side) & (model.y_seen_ == label)).sum())
            for side in (True, False) for label in (0, 1)] == [30, 30, 30, 30]
    by_collection = leave_one_collection_out(_Recorder(), collections, balance="collection",
                                             drop_near_copies=False, n_bootstrap=20,
                                             verbose=False, return_models=True, held_out=["c"])
    seen = by_collection.models["c"]
    assert seen.y_seen_[seen.offset_seen_ > 5].mean() > 0.8  # a's tumors still dominate a
    with pytest.raises(ValueError, match="balance must be"):
        leave_one_collection_out(_Recorder(), collections, balance="class")


def test_leave_one_collection_out_refuses_bad_subsets():
    collections = {"a": _collection(10, 0, 0), "b": _collection(10, 0, 1)}
    with pytest.raises(ValueError, match="'z' is not one of the collections"):
        leave_one_collection_out(_MeanBrightness(), collections, subsets={"z": {}})
    with pytest.raises(ValueError, match="has 3 entries"):
        leave_one_collection_out(_MeanBrightness(), collections,
                                 subsets={"a": {"x": np.ones(3, bool)}})
    with pytest.raises(ValueError, match="two or more"):
        leave_one_collection_out(_MeanBrightness(), {"a": collections["a"]})


def test_leave_one_collection_out_with_a_real_network_and_near_copies_dropped():
    synth = make_synthetic_mri(36, image_size=32, random_state=0)
    images = np.moveaxis(synth.data[..., None].repeat(3, -1), -1, 1)
    parts = [slice(0, 12), slice(12, 24), slice(24, 36)]
    collections = {k: Bunch(data=images[p], target=synth.target[p],
                            target_names=np.array(["no", "yes"]), groups=np.arange(12))
                   for k, p in zip("xyz", parts, strict=True)}
    # One image of z is a copy of one of x: left out when z, or x, is scored.
    collections["z"].data = collections["z"].data.copy()
    collections["z"].data[0] = collections["x"].data[0]
    out = leave_one_collection_out(
        SimpleCNNClassifier(max_epochs=2, random_state=0, device="cpu"), collections,
        n_bootstrap=20, verbose=False)
    by_name = {r["held_out"]: r for r in out.records}
    assert by_name["z"]["n"] == 11 and by_name["z"]["n_near_copies_dropped"] == 1
    assert by_name["x"]["n"] == 11 and by_name["y"]["n"] == 12
    # The copy has no probability where it was left out; every other image has one.
    assert np.isnan(out.proba["z"][0]) and np.isfinite(out.proba["z"][1:]).all()
    assert np.isnan(out.proba["x"][0]) and np.isfinite(out.proba["y"]).all()
