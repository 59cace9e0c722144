"""The grouped splitters: same splits as before the move, groups whole, errors named."""

import ast
from pathlib import Path

import numpy as np
import pytest

import skbrain.model_selection as ms
from skbrain.model_selection import (
    StratifiedGroupShuffleSplit,
    grouped_cv,
    grouped_holdout,
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


def test_old_import_paths_still_work():
    import skbrain
    from skbrain import evaluation, search

    assert evaluation.train_test_split_grouped is train_test_split_grouped
    assert evaluation.StratifiedGroupShuffleSplit is StratifiedGroupShuffleSplit
    assert evaluation.study_split is ms.study_split
    assert evaluation.read_split_file is ms.read_split_file
    assert search.grouped_cv is grouped_cv
    assert skbrain.train_test_split_grouped is train_test_split_grouped


def test_model_selection_imports_nothing_from_skbrain():
    tree = ast.parse(Path(ms.__file__).read_text(encoding="utf-8"))
    imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                if node.level or (node.module or "").startswith("skbrain")]
    imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names if alias.name.startswith("skbrain")]
    assert imported == []
