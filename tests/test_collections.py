"""Four tumor classes and a second collection, on a few dozen real images of each folder."""

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from skbrain import SimpleCNNClassifier
from skbrain.cli import main
from skbrain.datasets import combine_collections, load_brain_mri
from skbrain.evaluation import (
    classification_scores,
    cross_collection_near_copies,
    evaluate_across,
)
from skbrain.persistence import load_model
from skbrain.preprocessing import ImageResizer

CLASSES = ("glioma", "meningioma", "notumor", "pituitary")
PER_CLASS = 8
FAST = ["--image-size", "32", "--set", "max_epochs=1", "--set", "n_kernels=4"]


def _copy_subset(source, target, classes, per_class):
    for name in classes:
        (target / name).mkdir(parents=True)
        for path in sorted((source / name).glob("*.jpg"))[:per_class]:
            shutil.copy(path, target / name / path.name)
    return target


@pytest.fixture(scope="module")
def four_class(real_data_4class, tmp_path_factory):
    """Eight real images of each of the four classes."""
    return _copy_subset(real_data_4class, tmp_path_factory.mktemp("four") / "data", CLASSES,
                        PER_CLASS)


@pytest.fixture(scope="module")
def two_collections(real_data, real_data_4class, tmp_path_factory):
    """A: six real yes/no images. B: 4 x 5 four-class images plus a planted near-copy of A."""
    root = tmp_path_factory.mktemp("two")
    a = _copy_subset(real_data, root / "a", ("yes", "no"), 3)
    b = _copy_subset(real_data_4class, root / "b", CLASSES, 5)
    planted = sorted((a / "yes").iterdir())[0]
    with Image.open(planted) as image:  # re-encoded and resized: a near-copy, not a byte copy
        image.convert("RGB").resize((200, 200)).save(b / "glioma" / "planted.png")
    return a, b


def test_loader_keeps_four_classes_or_joins_them(four_class):
    data = load_brain_mri(four_class)
    assert data.target_names.tolist() == list(CLASSES)
    assert np.bincount(data.target).tolist() == [PER_CLASS] * 4
    binary = load_brain_mri(four_class, negative="notumor")
    assert binary.target_names.tolist() == ["notumor", "tumor (glioma, meningioma, pituitary)"]
    assert binary.target.tolist() == (data.target != 2).astype(int).tolist()
    assert binary.original_target.tolist() == data.target.tolist()
    with pytest.raises(ValueError, match="negative='healthy' is not a class folder"):
        load_brain_mri(four_class, negative="healthy")


def test_four_class_fit_through_the_library(four_class):
    data = load_brain_mri(four_class)
    X = ImageResizer(32).fit_transform(data.data)
    clf = SimpleCNNClassifier(n_kernels=4, max_epochs=2, random_state=0).fit(X, data.target)
    assert clf.classes_.tolist() == [0, 1, 2, 3]
    proba = clf.predict_proba(X)
    assert proba.shape == (32, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    scores = classification_scores(data.target, clf.predict(X), proba, labels=clf.classes_)
    assert set(scores["per_class"]) == {0, 1, 2, 3}
    assert np.array(scores["confusion_matrix"]).sum() == 32
    assert 0 <= scores["f1_macro"] <= 1 and 0 <= scores["roc_auc"] <= 1


def test_skbrain_train_on_four_classes(four_class, tmp_path, capsys):
    out = tmp_path / "four.skbrain"
    code = main(["train", "--model", "simple", "--data", str(four_class), *FAST,
                 "--test-size", "12", "--output", str(out)])
    text, err = capsys.readouterr()
    assert code == 0, err
    assert "data: 32 images (glioma 8, meningioma 8, notumor 8, pituitary 8)" in text
    assert "tumor, " not in text.split("training")[0]  # no "tumor / no tumor" count
    assert "macro F1" in text and "pituitary" in text.split("test scores")[1]
    report = json.loads((tmp_path / "four.metrics.json").read_text())
    assert report["data"]["class_counts"] == dict.fromkeys(CLASSES, PER_CLASS)
    assert report["class_names"] == dict(zip(map(str, range(4)), CLASSES, strict=True))
    metrics = report["metrics"]
    assert {"f1_macro", "f1_weighted", "balanced_accuracy", "roc_auc"} <= set(metrics)
    assert set(metrics["per_class"]) == {"0", "1", "2", "3"}
    assert sum(map(sum, metrics["confusion_matrix"])) == report["n_test"] == 12
    assert (tmp_path / "four.confusion.png").is_file()
    card = (tmp_path / "four.model_card.md").read_text()
    assert "Per class:" in card and "| meningioma |" in card

    code = main(["predict", str(out), "--csv", str(four_class / "pituitary")])
    rows = capsys.readouterr().out.splitlines()
    assert code == 0 and rows[0] == "file,label,p_label,kind,n_slices,scan,counted"
    assert {row.split(",")[1] for row in rows[1:]} <= set(CLASSES)


@pytest.mark.parametrize("option", [["--min-recall", "0.9"]])
def test_binary_option_refused_before_training(four_class, tmp_path, capsys, option):
    out = tmp_path / "refused.skbrain"
    code = main(["train", "--model", "simple", "--data", str(four_class), *FAST, *option,
                 "--output", str(out)])
    text, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1
    assert "--min-recall is for two classes (tumor / no tumor); the data has 4" in err
    assert "--negative" in err
    assert "training" not in text and "decoded" not in text  # nothing was resized or fitted
    assert list(tmp_path.iterdir()) == []


def test_planted_near_copy_is_found_and_dropped(two_collections, tmp_path, capsys):
    a, b = two_collections
    train = load_brain_mri(a)
    test = load_brain_mri(b, negative="notumor")
    copies = cross_collection_near_copies(train.data, test.data)
    assert [p.rsplit("/", 1)[-1] for p in test.data[copies]] == ["planted.png"]

    out = tmp_path / "across.skbrain"
    code = main(["train", "--model", "simple", "--data", str(a), "--test-data", str(b),
                 "--negative", "notumor", *FAST, "--quiet", "--output", str(out)])
    text, err = capsys.readouterr()
    assert code == 0, err
    assert "near-copies: 1 of the 21 test images" in text
    assert "balanced acc." in text
    report = json.loads((tmp_path / "across.metrics.json").read_text())
    assert report["n_train"] == 6 and report["n_test"] == 20
    assert report["split"]["near_copies"] == 1
    assert "glioma/planted.png" not in report["split"]["test"]

    code = main(["evaluate", str(out), "--data", str(b), "--negative", "notumor"])
    text, err = capsys.readouterr()
    assert code == 0, err
    assert "on the saved test split: 20 images" in text

    model = load_model(out)  # the library call behind `evaluate` on a folder it has not seen
    kept = evaluate_across(model, test.data, test.target, train_images=train.data)
    assert kept.n_near_copies == 1 and len(kept.kept) == 20
    every = evaluate_across(model, test.data, test.target, train_images=train.data,
                            drop_near_copies=False)
    assert len(every.kept) == 21 and {"roc_auc", "balanced_accuracy", "f1"} <= set(every.scores)


def test_union_groups_a_planted_near_copy_with_its_original(two_collections):
    a, b = two_collections
    small, large = load_brain_mri(a), load_brain_mri(b, negative="notumor")
    both = combine_collections(small, large, names=["a", "b"])
    assert both.target_names.tolist() == ["no / notumor",
                                          "yes / tumor (glioma, meningioma, pituitary)"]
    assert both.target.tolist() == [*small.target, *large.target]
    assert both.collection.tolist() == [0] * 6 + [1] * 21
    planted = int(np.flatnonzero([p.endswith("planted.png") for p in both.data])[0])
    original = sorted(str(p) for p in (a / "yes").iterdir())[0]
    assert both.groups[planted] == both.groups[both.data.tolist().index(original)]
    # Every other image keeps a group of its own collection: the union adds one link.
    assert len(np.unique(both.groups)) == (len(np.unique(small.groups))
                                           + len(np.unique(large.groups)) - 1)

    four = load_brain_mri(b)
    with pytest.raises(ValueError, match="must share their class names"):
        combine_collections(four, small)


def test_skbrain_compare_on_four_classes(four_class, tmp_path, capsys):
    code = main(["compare", "--models", "simple", "--repeats", "1", "--data", str(four_class),
                 *FAST, "--quiet", "--output", str(tmp_path)])
    text, err = capsys.readouterr()
    assert code == 0, err
    assert text.split()[:6] == ["model", "accuracy", "balanced", "acc.", "macro", "F1"]
    rows = (tmp_path / "comparison.csv").read_text().splitlines()
    assert "f1_macro_mean" in rows[0] and "recall_0" not in rows[0]
    records = json.loads((tmp_path / "comparison.json").read_text())["records"]
    assert {"recall_0", "recall_3", "f1_macro"} <= set(records[0])


def test_fit_and_test_searches_three_classes_by_macro_f1(synthetic_images):
    from skbrain.training import check_binary_options, fit_and_test

    X, y = synthetic_images
    y3 = np.where(y == 1, np.arange(len(y)) % 2 + 1, 0)
    clf = SimpleCNNClassifier(n_kernels=4, max_epochs=1, batch_size=8, random_state=0)
    result = fit_and_test(clf, X[:30], y3[:30], X[30:], y3[30:], search=2, cv=2,
                          fixed={"max_epochs", "n_kernels", "batch_size"})
    assert result.search["scoring"] == "f1_macro" and result.search["best_params"]
    assert result.proba.shape == (10, 3) and "f1_macro" in result.scores
    with pytest.raises(ValueError, match="min_recall is for two classes"):
        check_binary_options(y3, min_recall=0.9)
