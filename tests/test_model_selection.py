"""The grouped splitters: same splits as before the move, groups whole, errors named."""

import ast
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

import skbrain.model_selection as ms
from skbrain.model_selection import (
    StratifiedGroupShuffleSplit,
    grouped_cv,
    grouped_holdout,
    study_split,
    train_test_split_grouped,
)

# Indices computed with skbrain.evaluation before the splitters moved (commit ef5cb74).
Y = np.array([1, 0, 1, 0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0,
              1, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0])
GROUPS = np.array([0, 2, 24, 9, 14, 6, 4, 14, 9, 23, 3, 3, 8, 19, 16, 1, 0, 16, 22, 12, 7, 23,
                   10, 9, 3, 0, 7, 23, 23, 0, 21, 4, 3, 1, 3, 1, 19, 4, 19, 1])
TEST_SEED_3 = [1, 4, 7, 15, 20, 26, 30, 33, 35, 39]
KFOLD_TESTS = [[4, 7, 9, 12, 13, 14, 17, 19, 21, 27, 28, 30, 36, 38],
               [1, 2, 6, 15, 18, 20, 26, 31, 33, 35, 37, 39],
               [0, 3, 5, 8, 10, 11, 16, 22, 23, 24, 25, 29, 32, 34],
               [1, 4, 7, 12, 13, 14, 17, 18, 19, 22, 36, 38],
               [2, 3, 5, 6, 8, 15, 23, 31, 33, 35, 37, 39],
               [0, 9, 10, 11, 16, 20, 21, 24, 25, 26, 27, 28, 29, 30, 32, 34]]
HOLDOUT_TESTS = [[2, 15, 19, 20, 22, 26, 30, 33, 35, 39], [1, 3, 4, 7, 8, 14, 17, 19, 23, 30]]


def test_train_test_split_grouped_gives_the_same_split_as_before():
    X = np.arange(40)
    X_train, X_test, y_train, y_test = train_test_split_grouped(X, Y, GROUPS, test_size=0.25,
                                                                random_state=3)
    assert X_test.tolist() == TEST_SEED_3
    assert y_test.tolist() == Y[TEST_SEED_3].tolist()
    assert sorted(X_train.tolist() + X_test.tolist()) == list(range(40))


def test_grouped_holdout_is_train_test_split_grouped_as_indices():
    train, test = grouped_holdout(Y, GROUPS, test_size=0.25, random_state=3)
    assert test.tolist() == TEST_SEED_3
    assert train.tolist() == np.setdiff1d(np.arange(40), test).tolist()
    assert set(GROUPS[train]).isdisjoint(GROUPS[test])


@pytest.mark.parametrize("seed", range(6))
def test_grouped_holdout_keeps_groups_whole_and_classes_balanced(seed):
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(30), 3)
    y = np.repeat(rng.integers(0, 2, 30), 3)
    train, test = grouped_holdout(y, groups, test_size=0.2, random_state=seed)
    assert set(groups[train]).isdisjoint(groups[test])
    assert len(train) + len(test) == 90 and len(test) <= 18
    for label in (0, 1):
        share = np.mean(y[test] == label)
        assert abs(share - np.mean(y == label)) < 0.2
    again = grouped_holdout(y, groups, test_size=0.2, random_state=seed)
    assert again[1].tolist() == test.tolist()


def test_grouped_holdout_without_groups_and_with_string_labels():
    y = np.array(["no"] * 6 + ["yes"] * 6)
    train, test = grouped_holdout(y, None, test_size=4, random_state=0)
    assert len(test) == 4 and sorted(y[test].tolist()) == ["no", "no", "yes", "yes"]


def test_grouped_holdout_errors_name_the_argument():
    y = np.array([0, 1] * 5)
    with pytest.raises(ValueError, match="groups and y have different lengths"):
        grouped_holdout(y, np.arange(9))
    with pytest.raises(ValueError, match="test_size"):
        grouped_holdout(y, np.arange(10), test_size=1.5)
    with pytest.raises(ValueError, match="groups are too large"):
        grouped_holdout(y, np.zeros(10), test_size=0.2)


def test_compare_models_splits_are_the_same_as_before():
    X = np.arange(40)
    kfold = ms._make_splits(3, X, Y, GROUPS, 2, 0.25, 0)
    assert [t.tolist() for _, t in kfold] == KFOLD_TESTS
    holdout = ms._make_splits(None, X, Y, GROUPS, 2, 0.25, 0)
    assert [t.tolist() for _, t in holdout] == HOLDOUT_TESTS


def test_grouped_cv_folds_keep_groups_whole():
    for train, test in grouped_cv(4, random_state=0).split(Y, Y, GROUPS):
        assert set(GROUPS[train]).isdisjoint(GROUPS[test])


def test_splitter_is_a_cv_for_sklearn():
    from sklearn.model_selection import check_cv

    cv = check_cv(StratifiedGroupShuffleSplit(3, random_state=0))
    assert cv.get_n_splits() == 3 and len(list(cv.split(Y, Y, GROUPS))) == 3


def test_model_selection_imports_nothing_from_skbrain():
    tree = ast.parse(Path(ms.__file__).read_text(encoding="utf-8"))
    imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                if node.level or (node.module or "").startswith("skbrain")]
    imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names if alias.name.startswith("skbrain")]
    assert imported == []


def _duplicate_groups(n, seed):
    """Labels and groups where a fifth of the samples come in copies of 2-4."""
    rng = np.random.default_rng(seed)
    groups, y = [], []
    g = 0
    while len(groups) < n:
        size = rng.choice([1, 1, 1, 1, 2, 3, 4])
        label = int(rng.random() < 0.6)
        groups += [g] * size
        y += [label] * size
        g += 1
    return np.array(y[:n]), np.array(groups[:n])


def test_grouped_split_keeps_groups_whole_and_classes_in_proportion():
    y, groups = _duplicate_groups(253, seed=1)
    cv = StratifiedGroupShuffleSplit(n_splits=10, test_size=0.25, random_state=0)
    tests = []
    for train, test in cv.split(np.zeros(len(y)), y, groups):
        assert set(groups[train]).isdisjoint(groups[test])
        assert len(train) + len(test) == len(y)
        assert abs(len(test) - 64) <= 1
        share = y[test].mean()
        assert abs(share - y.mean()) < 0.03
        tests.append(frozenset(test))
    assert len(set(tests)) == 10
    again = [frozenset(t) for _, t in cv.split(None, y, groups)]
    assert again == tests


def test_grouped_split_is_a_drop_in_sklearn_cv():
    rng = np.random.default_rng(0)
    y, groups = _duplicate_groups(120, seed=2)
    X = rng.normal(size=(120, 3)) + y[:, None]
    cv = StratifiedGroupShuffleSplit(3, test_size=0.3, random_state=0)
    scores = cross_val_score(LogisticRegression(), X, y, groups=groups, cv=cv)
    assert len(scores) == 3 and scores.mean() > 0.7
    assert cv.get_n_splits() == 3
    assert "StratifiedGroupShuffleSplit(n_splits=3" in repr(cv)


def test_grouped_split_errors():
    y = np.array([0, 0, 1, 1])
    with pytest.raises(ValueError, match="test_size"):
        next(StratifiedGroupShuffleSplit(1, test_size=1.5).split(None, y))
    with pytest.raises(ValueError, match="too large"):
        next(StratifiedGroupShuffleSplit(1, test_size=0.5).split(None, y, [0, 0, 0, 0]))
    with pytest.raises(ValueError, match="groups and y have different lengths"):
        next(StratifiedGroupShuffleSplit(1).split(None, y, [0, 1]))


def test_train_test_split_grouped_handles_path_lists():
    y, groups = _duplicate_groups(40, seed=3)
    paths = [f"img{i}.png" for i in range(40)]
    p_train, p_test, y_train, y_test = train_test_split_grouped(
        paths, y, groups, test_size=10, random_state=0
    )
    assert isinstance(p_train, list) and len(p_test) == len(y_test) == 10
    index = {p: i for i, p in enumerate(paths)}
    assert set(groups[[index[p] for p in p_train]]).isdisjoint(
        groups[[index[p] for p in p_test]]
    )
    assert [y[index[p]] for p in p_test] == y_test.tolist()


def test_study_split_takes_every_third_of_the_sorted_relpaths():
    names = [f"/x/no/N{i:03d}.jpg" for i in range(98)] + [f"/x/yes/Y{i:03d}.jpg"
                                                           for i in range(155)]
    shuffled = list(np.random.default_rng(0).permutation(names))
    train, test = study_split(shuffled)
    assert len(test) == 85 and len(train) == 168
    chosen = sorted(shuffled[i] for i in test)
    assert chosen == sorted(names)[::3]
    with pytest.raises(ValueError, match="twice"):
        study_split(["a/no/1.jpg", "b/no/1.jpg"])


def test_study_split_on_the_real_folder(real_data):
    files = sorted(str(p) for p in real_data.glob("*/*") if p.parent.name in ("yes", "no"))
    train, test = study_split(files)
    assert (len(train), len(test)) == (168, 85)
