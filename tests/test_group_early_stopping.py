"""Early stopping with ``groups``: no group straddles training and validation."""

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline

from skbrain import ImageResizer, SimpleCNNClassifier


def _split(clf, n):
    test_fold = clf.net_.train_split.cv.test_fold
    assert len(test_fold) == n
    return np.flatnonzero(test_fold == -1), np.flatnonzero(test_fold == 0)


def _assert_grouped(clf, groups):
    train, valid = _split(clf, len(groups))
    assert len(valid) and len(train)
    assert not set(groups[train]) & set(groups[valid])
    # The valid losses were computed on those images.
    assert all(np.isfinite(row["valid_loss"]) for row in clf.history_)


@pytest.fixture(scope="module")
def data(synthetic_images):
    X, y = synthetic_images
    # Pairs of near-copies: each group holds two images of one class.
    order = np.argsort(y, kind="stable")
    X, y = X[order], y[order]
    groups = np.arange(len(y)) // 2
    return X, y, groups


def _clf(**params):
    return SimpleCNNClassifier(n_kernels=2, max_epochs=2, early_stopping=True,
                               validation_fraction=0.2, random_state=0, device="cpu", **params)


def test_groups_keep_each_group_on_one_side(data):
    X, y, groups = data
    clf = _clf().fit(X, y, groups=groups)
    _assert_grouped(clf, groups)
    _, valid = _split(clf, len(y))
    assert set(y[valid]) == {0, 1}  # stratified where the groups allow
    assert abs(len(valid) / len(y) - 0.2) <= 0.1
    # Without groups the split is skorch's stratified one, which here cuts pairs.
    plain = _clf().fit(X, y)
    assert not hasattr(plain.net_.train_split, "cv") or not hasattr(
        plain.net_.train_split.cv, "test_fold")
    with pytest.raises(ValueError, match="groups has 3 entries for 40 images"):
        _clf().fit(X, y, groups=groups[:3])
    with pytest.raises(ValueError, match="single group"):
        _clf().fit(X, y, groups=np.zeros(len(y)))


def test_groups_are_routed_through_pipelines_and_searches(data):
    X, y, groups = data
    images = [np.moveaxis(x, 0, -1) for x in X]
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline([("resize", ImageResizer(16)),
                         ("cnn", _clf().set_fit_request(groups=True))])
        pipe.fit(images, y, groups=groups)
        _assert_grouped(pipe.named_steps["cnn"], groups)
        search = GridSearchCV(pipe, {"cnn__n_kernels": [2]}, cv=GroupKFold(2))
        search.fit(images, y, groups=groups)
        _assert_grouped(search.best_estimator_.named_steps["cnn"], groups)


def test_the_validation_side_grows_by_whole_groups_until_one_fits():
    from skbrain._net import _grouped_valid_split
    from skbrain.model_selection import grouped_holdout

    groups = np.arange(36) // 3
    y = groups % 2
    # A tenth is 4 images, 2 a class: no group of 3 fits, so the side grows to 7 (4 + 3).
    split, n_valid = _grouped_valid_split(y, groups, 0.1, 1)
    valid = split.cv.test_fold == 0
    assert n_valid == valid.sum() == 6 and set(y[valid]) == {0, 1}
    assert not set(groups[valid]) & set(groups[~valid])
    np.testing.assert_array_equal(np.flatnonzero(valid),
                                  grouped_holdout(y, groups, test_size=7, random_state=1)[1])
    halves = np.arange(36) // 18
    with pytest.raises(ValueError, match="at most half of them for validation"):
        _grouped_valid_split(halves % 2, halves, 0.1, 0)
