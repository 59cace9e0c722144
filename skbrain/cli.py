"""The ``skbrain`` command: the study's workflow from a shell.

Sub-commands::

    skbrain models                                   # every model name, with its size
    skbrain train --model wide --output wide.skbrain # split, train, test, save
    skbrain train --model wide --min-recall 0.95     # ... deciding at a recall-first threshold
    skbrain train --model compact --data A --test-data B --negative notumor  # across collections
    skbrain evaluate wide.skbrain [--data B]         # the same test scores again, or on B
    skbrain predict wide.skbrain scan1.jpg scan2.png # label and tumor probability
    skbrain compare --models simple,wide,deep --repeats 3 --output results/
    skbrain search --model wide --n-iter 20 --cv 3   # random search, grouped folds

The images come from ``--data DIR`` (a folder with one sub-folder per class,
such as ``yes/`` and ``no/``, or ``glioma/ meningioma/ notumor/ pituitary/``;
``--negative notumor`` makes the latter tumor / no tumor), else from the
folder in the ``SKBRAIN_DATA`` environment variable, else from
:func:`~skbrain.datasets.fetch_brain_mri`. Splits keep every group of
duplicate images on one side and nothing is ever written inside the data
folder. Every file is written to a temporary name first and renamed into place.

Errors in what was asked for (an unknown model, a missing folder, a bad
``--set``, a file that is not a model, an option for two classes asked of
more) end the command with exit status 2 and one line on standard error,
before any training; ``--traceback`` shows the full traceback instead.

This module only parses, calls and prints: the steps are library functions
(:mod:`skbrain.training`, :mod:`skbrain.evaluation`, :mod:`skbrain.thresholds`,
:mod:`skbrain.search`, :mod:`skbrain.plotting`, :mod:`skbrain.model_card`,
:mod:`skbrain.persistence`), so a notebook can do the same.
"""

import argparse
import ast
import csv
import datetime
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from . import registry
from ._version import __version__
from .exceptions import ModelFileError

__all__ = ["main", "build_parser", "parse_set_options"]

DEFAULT_OUTPUT = "skbrain-model.skbrain"
SCORE_COLUMNS = ("accuracy", "precision", "recall", "f1", "roc_auc")
ACROSS_COLUMNS = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc")
CLASS_NAMES = {0: "no tumor", 1: "tumor"}
PREDICTION_FIGURE_IMAGES = 12


class CLIError(Exception):
    """A problem with what was asked for; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise CLIError(f"{message} (see '{self.prog} --help')")


# -------------------------------------------------------------------- helpers
def _say(*parts, quiet=False):
    if not quiet:
        print(*parts, flush=True)


def parse_set_options(items):
    """Turn ``--set key=value`` strings into a parameter dict.

    Values are read as Python literals (``1``, ``3e-4``, ``True``, ``None``,
    ``(64, 64)``) where they parse as one, and kept as strings otherwise.

    Parameters
    ----------
    items : list of str or None

    Returns
    -------
    dict

    Examples
    --------
    >>> parse_set_options(["max_epochs=1", "lr=3e-4", "optimizer=sgd", "augment=False"])
    {'max_epochs': 1, 'lr': 0.0003, 'optimizer': 'sgd', 'augment': False}
    """
    params = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or not key.replace("__", "_").replace("_", "a").isalnum():
            raise CLIError(f"--set expects key=value with a parameter name as key; got {item!r}")
        if key in params:
            raise CLIError(f"--set gives {key!r} twice")
        raw = raw.strip()
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = raw
        params[key] = value
    return params


def _build_estimator(name, sets, defaults):
    from .training import build_estimator

    return _ask(build_estimator, "--set", name, sets, **defaults)


def _check_device(device):
    from ._base import resolve_device

    try:
        return resolve_device(device)
    except ValueError as exc:
        raise CLIError(f"--device: {exc}") from None


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return value


def _test_size(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a share in (0, 1) or a count; got {text!r}") from None
    if value.is_integer() and value >= 1:
        return int(value)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a share in (0, 1) or a count; got {text!r}")
    return value


def _share(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1]; got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1]; got {text!r}")
    return value

def _label_name(label, names=None):
    key = label.item() if isinstance(label, np.generic) else label
    names = CLASS_NAMES if names is None else names
    return names.get(str(key), names.get(key, str(label))) if isinstance(key, int) else str(label)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _write_json(path, data):
    from .persistence import atomic_write

    with atomic_write(path, "w", encoding="utf-8") as f:
        json.dump(_jsonable(data), f, indent=2)
        f.write("\n")


def _save_figure(fig, path):
    from .persistence import atomic_write

    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png", dpi=100)


def _sibling(output, suffix):
    """``wide.skbrain`` -> ``wide.metrics.json`` for ``suffix=".metrics.json"``."""
    return output.with_name(output.stem + suffix) if output.suffix else Path(
        str(output) + suffix)


def _ask(call, option, *args, **kwargs):
    """Run a library call; its ValueError becomes one line about ``option``."""
    try:
        return call(*args, **kwargs)
    except ValueError as exc:
        raise CLIError(f"{option}: {exc}") from None


# ----------------------------------------------------------------------- data
class _Data:
    """The images of one folder: absolute paths, relpaths, labels, groups, class names."""

    def __init__(self, root, bunch):
        # Identity is the resolved folder; relpaths come from the unresolved
        # paths, so a symlinked image still gets its name inside the folder.
        self.root = Path(root).resolve()
        self.paths = [str(p) for p in bunch.data]
        base = os.path.abspath(root)
        self.relpaths = [Path(os.path.relpath(os.path.abspath(p), base)).as_posix()
                         for p in self.paths]
        self.target = np.asarray(bunch.target)
        groups = bunch.get("groups")
        self.groups = np.asarray(groups) if groups is not None else np.arange(len(self.paths))
        self.target_names = [str(n) for n in bunch.get("target_names", [])]
        self.multiclass = len(np.unique(self.target)) > 2

    def __len__(self):
        return len(self.paths)

    def describe(self, index=None):
        from .datasets import describe_labels

        y = self.target if index is None else self.target[index]
        return describe_labels(y, self.target_names or None)

    def class_names(self):
        return ({i: n for i, n in enumerate(self.target_names)} if self.multiclass
                else CLASS_NAMES)


def _load_data(data_arg, *, fallback=None, negative=None, option="--data"):
    """Load the images from ``--data``, ``SKBRAIN_DATA``, ``fallback`` or the download."""
    from .datasets import fetch_brain_mri, load_brain_mri

    if data_arg:
        source, folder = option, Path(data_arg)
    elif os.environ.get("SKBRAIN_DATA"):
        source, folder = "SKBRAIN_DATA", Path(os.environ["SKBRAIN_DATA"])
    elif fallback is not None and Path(fallback).is_dir():
        source, folder = "the model's data folder", Path(fallback)
    else:
        source, folder = None, None
    if folder is not None:
        if not folder.exists():
            raise CLIError(f"{source}: folder '{folder}' does not exist")
        if not folder.is_dir():
            raise CLIError(f"{source}: '{folder}' is not a folder")
    elif negative:
        raise CLIError("--negative needs --data: the downloaded images have two classes")
    if folder is None:
        fetched = fetch_brain_mri()
        bunch = fetched if hasattr(fetched, "target") else load_brain_mri(fetched)
    else:
        # --negative joins the classes of a folder that has that class; a two-class
        # folder without it (yes/ and no/) is already tumor / no tumor.
        joined = negative if negative and (folder / negative).is_dir() else None
        bunch = _ask(load_brain_mri, source, folder, negative=joined)
        if negative and joined is None and len(bunch.target_names) > 2:
            raise CLIError(f"--negative: {negative!r} is not a class folder of '{folder}'; its "
                           f"classes are {', '.join(bunch.target_names)}")
    if len(bunch.data) == 0:
        raise CLIError(f"{source or 'the data folder'}: no images found")
    # The class folders' parent; fetch_brain_mri chooses its own folder.
    root = folder if folder is not None else Path(os.path.abspath(bunch.data[0])).parent.parent
    return _Data(root, bunch)


def _refuse_inside(path, data, option):
    resolved = Path(path).resolve()
    if resolved == data.root or data.root in resolved.parents:
        raise CLIError(f"{option}: '{path}' is inside the data folder '{data.root}'; skbrain "
                       "never writes there")


def _refuse_binary_options(data, **options):
    """A two-class option asked of a multi-class folder stops here, before any training."""
    from .training import check_binary_options

    hint = "; join the classes with --negative NAME (e.g. --negative notumor)"
    try:
        check_binary_options(data.target, data.target_names, **options)
    except ValueError as exc:
        raise CLIError(f"{exc}{hint}") from None


def _split(args, data):
    from .evaluation import StratifiedGroupShuffleSplit, read_split_file

    if args.split_file:
        train, test = _ask(read_split_file, "--split-file", args.split_file, data.relpaths,
                           data.root)
        return train, test, {"method": "file", "split_file": str(Path(args.split_file))}
    cv = StratifiedGroupShuffleSplit(1, test_size=args.test_size, random_state=args.seed)
    train, test = _ask(lambda: next(cv.split(data.paths, data.target, data.groups)),
                       "--test-size")
    return train, test, {"method": "grouped-stratified", "test_size": args.test_size,
                         "seed": args.seed}


def _near_copies(train_paths, test, keep):
    """Mask of ``test`` images to score: near-copies of training images left out."""
    from .evaluation import cross_collection_near_copies

    copies = cross_collection_near_copies(train_paths, test.paths, n_jobs=-1)
    what = "kept (--keep-near-copies)" if keep else "left out of the test scores"
    print(f"near-copies: {int(copies.sum())} of the {len(test)} test images have a near-copy "
          f"among the training images; {what}", flush=True)
    if not keep and copies.all():
        raise CLIError("every test image has a near-copy among the training images")
    return np.ones(len(test), dtype=bool) if keep else ~copies, int(copies.sum())


def _resize(args, paths, quiet):
    from .preprocessing import ImageResizer

    resizer = ImageResizer(size=args.image_size, n_jobs=-1)
    start = time.perf_counter()
    X = resizer.fit_transform(paths)
    seconds = time.perf_counter() - start
    _say(f"decoded and resized {len(paths)} images to {args.image_size}x{args.image_size} "
         f"in {seconds:.1f} s", quiet=quiet)
    return resizer, X, seconds


def _figure_sample(y_test, seed):
    """Positions of up to PREDICTION_FIGURE_IMAGES test images, every class alike."""
    rng = np.random.default_rng(seed)
    labels = np.unique(y_test)
    per_class = max(1, PREDICTION_FIGURE_IMAGES // len(labels))
    chosen = []
    for label in labels:
        members = np.flatnonzero(y_test == label)
        chosen += sorted(rng.permutation(members)[:per_class].tolist())
    return np.array(chosen[:PREDICTION_FIGURE_IMAGES])


def _scores_table(name, scores, columns=SCORE_COLUMNS):
    from .evaluation import scores_table

    names = scores.pop("class_names", None)
    return scores_table(name, scores, columns, class_names=names)


# ------------------------------------------------------------------- commands
def _cmd_models(args):
    rows = []
    for name in registry.list_models():
        if name == registry.TIMM_PREFIX + "<name>":
            rows.append((name, "TimmClassifier", "-", "any model of timm.list_models()"))
            continue
        spec = registry.MODELS[name]
        try:
            count = f"{registry.model_parameter_count(name):,}"
        except ImportError:
            count = "n/a"
        except Exception as exc:  # a third-party builder failing must not hide the list
            count = f"? ({type(exc).__name__})"
        rows.append((name, spec.estimator_name, count, spec.description))
    header = ("name", "estimator", "parameters", "description")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].rjust(widths[2]),
                 row[3]]
        print("  ".join(cells).rstrip())
    return 0


def _estimator_defaults(args):
    return {"random_state": args.seed, "device": args.device,
            "verbose": 0 if args.quiet else 1}


def _training_info(data, train, test, split_info, args, threshold_info):
    """What the model card says about the training images."""
    y_train = data.target[train]
    names = data.class_names()
    if split_info.get("method") == "other collection":
        split = (f"all {len(train)} images of the training folder; tested on {len(test)} "
                 f"images of {split_info['test_data']} ({split_info['near_copies']} "
                 "near-copies of training images " + ("kept)" if split_info["kept"] else
                                                      "left out)"))
    else:
        split = (f"{len(train)} training / {len(test)} test images "
                 f"({split_info.get('method')}, seed {args.seed})")
    info = {
        "n_images": len(train),
        "class_counts": {names.get(int(k), k): int((y_train == k).sum())
                         for k in np.unique(data.target)[::1 if data.multiclass else -1]},
        "source": f"{data.root} ({data.describe()} in all)",
        "duplicates": (f"the {len(data)} images are {len(np.unique(data.groups))} distinct "
                       "pictures (copies and near-copies grouped); each group lies wholly in "
                       "training or in test" if split_info.get("method") != "file" else
                       "split read from --split-file; duplicates kept apart only if the "
                       "file does"),
        "split": split,
        "image_size": f"{args.image_size}x{args.image_size}",
    }
    if not data.multiclass:  # the card's own names for 1 and 0
        info["class_counts"] = {1: info["class_counts"]["tumor"],
                                0: info["class_counts"]["no tumor"]}
    if threshold_info is not None:
        info["threshold_selection"] = (
            f"the highest threshold whose recall reached {threshold_info['min_recall']:g} in "
            f"{threshold_info['cv']}-fold grouped cross-validation on the training images "
            "(TunedThresholdClassifierCV), kept by FixedThresholdClassifier")
    return info


def _cmd_train(args):
    from sklearn.pipeline import Pipeline

    from .model_card import model_card
    from .persistence import _versions, save_model
    from .plotting import plot_confusion_matrix, plot_predictions
    from .thresholds import describe_threshold
    from .training import fit_and_test

    started = time.perf_counter()
    quiet = args.quiet
    name = _model_name(args.model, "--model")
    sets = parse_set_options(args.set)
    _check_device(sets.get("device", args.device))
    estimator = _build_estimator(name, sets, _estimator_defaults(args))
    if (args.search is not None or args.min_recall is not None) and args.cv < 2:
        raise CLIError("--cv must be at least 2")
    output = Path(args.output)
    if output.is_dir():
        raise CLIError(f"--output: '{output}' is a folder; give a file name such as "
                       f"'{output / 'model.skbrain'}'")
    if args.test_data and args.split_file:
        raise CLIError("--test-data and --split-file both choose the test images; give one")

    data = _load_data(args.data, negative=args.negative)
    _refuse_inside(output, data, "--output")
    _refuse_binary_options(data, **{"--min-recall": args.min_recall})
    _say(f"data: {data.describe()} in {data.root}", quiet=quiet)
    if args.test_data:
        test_data = _load_data(args.test_data, negative=args.negative, option="--test-data")
        _refuse_inside(output, test_data, "--output")
        if data.multiclass and test_data.target_names != data.target_names:
            raise CLIError(f"--test-data: its classes {test_data.target_names} are not those "
                           f"of --data {data.target_names}")
        if test_data.multiclass and not data.multiclass:
            raise CLIError(f"--test-data: it has {len(test_data.target_names)} classes and "
                           "--data two; join them with --negative NAME")
        _say(f"test data: {test_data.describe()} in {test_data.root}", quiet=quiet)
        scored, n_copies = _near_copies(data.paths, test_data, args.keep_near_copies)
        train, test = np.arange(len(data)), np.flatnonzero(scored)
        split_info = {"method": "other collection", "test_data": str(test_data.root),
                      "near_copies": n_copies, "kept": bool(args.keep_near_copies)}
    else:
        test_data = data
        train, test, split_info = _split(args, data)
        _say(f"split: train {data.describe(train)}, test {data.describe(test)}", quiet=quiet)

    resizer, X, load_seconds = _resize(args, data.paths, quiet)
    X_test = (X[test] if test_data is data else
              _resize(args, [test_data.paths[i] for i in test], quiet)[1])
    y, y_test = data.target, test_data.target[test]
    _say(f"training {name} ({type(estimator).__name__}) on {len(train)} images...",
         quiet=quiet)
    if args.search is not None or args.min_recall is not None:  # folds checked before fitting
        from sklearn.model_selection import StratifiedGroupKFold

        _ask(lambda: next(StratifiedGroupKFold(args.cv).split(X[train], y[train],
                                                              data.groups[train])), "--cv")
    try:
        result = fit_and_test(estimator, X[train], y[train], X_test, y_test,
                              groups=data.groups[train], search=args.search, cv=args.cv,
                              fixed=sets, min_recall=args.min_recall, random_state=args.seed,
                              verbose=0 if quiet else 1)
    except ValueError as exc:
        option = ("--min-recall" if "threshold" in str(exc) else
                  "--search" if "searchable" in str(exc) else None)
        if option is None:
            raise
        suffix = " by --set" if option == "--search" else ""
        raise CLIError(f"{option}: {exc}{suffix}") from None
    estimator, scores, names = result.estimator, result.scores, data.class_names()
    model = Pipeline([("resize", resizer), ("cnn", result.model)])
    print(f"\ntest scores of {name} on {test_data.describe(test)}:")
    columns = ACROSS_COLUMNS if test_data is not data else SCORE_COLUMNS
    print(_scores_table(name, {**scores, "class_names": names}, columns))
    if result.threshold is not None:
        print(describe_threshold(result.threshold))

    output.parent.mkdir(parents=True, exist_ok=True)
    files = {"model": output, "metrics": _sibling(output, ".metrics.json"),
             "figure": _sibling(output, ".predictions.png"),
             "model_card": _sibling(output, ".model_card.md")}
    counts = ({"n_tumor": int((y == 1).sum()), "n_no_tumor": int((y == 0).sum())}
              if not data.multiclass else {"class_counts": {
                  n: int((y == i).sum()) for i, n in enumerate(data.target_names)}})
    report = {
        "command": "train", "model": name, "estimator": type(estimator).__name__,
        "metrics": scores, "n_train": len(train), "n_test": len(test),
        "image_size": args.image_size, "device": getattr(estimator, "device_", None),
        "data": {"path": str(data.root), "n_images": len(data), **counts},
        "split": {**split_info, "train": [data.relpaths[i] for i in train],
                  "test": [test_data.relpaths[i] for i in test]},
        "set": sets, "params": estimator.get_params(deep=False), "search": result.search,
        "threshold": result.threshold, "class_names": names,
        "timings": {"load_seconds": load_seconds, "fit_seconds": result.fit_seconds,
                    "predict_seconds": result.predict_seconds},
        "versions": _versions(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if args.negative:
        report["data"]["negative"] = args.negative
    save_model(model, output, metadata=_jsonable(report))
    shown = _figure_sample(y_test, args.seed)
    fig = plot_predictions([test_data.paths[test[i]] for i in shown], y_test[shown],
                           result.y_pred[shown], result.proba[shown], n=None,
                           class_names=names)
    fig.suptitle(f"{name}: test images, true and predicted labels")
    _save_figure(fig, files["figure"])
    if data.multiclass:
        files["confusion"] = _sibling(output, ".confusion.png")
        _save_figure(plot_confusion_matrix(y_test, result.y_pred, labels=estimator.classes_,
                                           class_names=names), files["confusion"])
    # The saved pipeline reads the test files itself, as it will in use.
    info = _training_info(data, train, test, split_info, args, result.threshold)
    model_card(model, [test_data.paths[i] for i in test], y_test, files["model_card"],
               class_names=names, training_info=info)
    report["timings"]["total_seconds"] = time.perf_counter() - started
    report["files"] = {k: str(v) for k, v in files.items()}
    _write_json(files["metrics"], report)
    *written, last = map(str, files.values())
    print(f"\nwrote {', '.join(written)} and {last} "
          f"({report['timings']['total_seconds']:.1f} s in all)")
    return 0


def _load(path, allow_pickle=False):
    from .persistence import load_model

    try:
        return load_model(path, return_info=True, allow_pickle=allow_pickle)
    except FileNotFoundError as exc:
        raise CLIError(str(exc)) from None


def _cmd_evaluate(args):
    from .evaluation import classification_scores, evaluate_across, predict_with_proba

    model, info = _load(args.model, args.allow_pickle)
    meta = info.get("metadata") or {}
    saved_root = (meta.get("data") or {}).get("path")
    negative = args.negative or (meta.get("data") or {}).get("negative")
    data = _load_data(args.data, fallback=saved_root, negative=negative)
    split = meta.get("split") or {}
    test_files, names = split.get("test"), meta.get("class_names")
    test_root = split.get("test_data") or saved_root
    same_folder = test_root is not None and Path(test_root).resolve() == data.root
    classes = np.asarray(model.classes_)
    if test_files and same_folder and set(test_files) <= set(data.relpaths):
        index = {rel: i for i, rel in enumerate(data.relpaths)}
        rows = np.array([index[rel] for rel in test_files])
        print(f"test scores of {meta.get('model') or type(model).__name__} on the saved test "
              f"split: {data.describe(rows)}:")
        y_pred, proba = predict_with_proba(model, [data.paths[i] for i in rows])
        scores = classification_scores(data.target[rows], y_pred, proba, labels=classes)
        columns = SCORE_COLUMNS if test_root == saved_root else ACROSS_COLUMNS
    else:
        where = f"all {data.describe()} in {data.root}"
        train_files = split.get("train")
        train_root = Path(saved_root) if saved_root else None
        if train_root is not None and train_root.resolve() == data.root and not same_folder:
            where += " (the training folder: the model was trained on these images)"
        elif test_files:
            where += " (not the training folder, or changed: the saved split does not apply)"
        else:
            where += " (no saved split: the model may have been trained on some of them)"
        print(f"test scores of {meta.get('model') or type(model).__name__} on {where}:")
        train_paths = None
        if train_files and train_root is not None and train_root.is_dir() and (
                train_root.resolve() != data.root):
            train_paths = [str(train_root / rel) for rel in train_files]
            train_paths = [p for p in train_paths if os.path.exists(p)] or None
        result = _ask(evaluate_across, "--data", model, data.paths, data.target,
                      train_images=train_paths, drop_near_copies=not args.keep_near_copies,
                      n_jobs=-1)
        if train_paths is not None:
            what = "kept (--keep-near-copies)" if args.keep_near_copies else "left out"
            print(f"near-copies of the training images: {result.n_near_copies}; {what}")
        rows, scores, columns = result.kept, result.scores, ACROSS_COLUMNS
    name = meta.get("model") or type(model).__name__
    print(_scores_table(name, {**scores, "class_names": names or {}}, columns))
    if args.json:
        _refuse_inside(args.json, data, "--json")
        _write_json(args.json, {"command": "evaluate", "model_file": str(args.model),
                                "model": name, "metrics": scores, "n_images": len(rows),
                                "data": str(data.root), "files": [data.relpaths[i]
                                                                  for i in rows]})
    return 0


def _expand_images(items, plane="axial"):
    """(images, scans): files, folders, NIfTI volumes and DICOM series as 2-D images."""
    from .datasets._medical import expand_scans

    try:
        return expand_scans(items, plane=plane)
    except ValueError as exc:
        raise CLIError(f"IMAGE: {exc}") from None


def _cmd_predict(args):
    from .inference import predict_images

    model, info = _load(args.model, args.allow_pickle)
    names = (info.get("metadata") or {}).get("class_names")
    images, scans = _expand_images(args.images, plane=args.plane)
    header = ("file", "label", "p_tumor" if len(model.classes_) <= 2 else "p_label", "kind",
              "n_slices", "scan")
    writer = csv.writer(sys.stdout, lineterminator="\n") if args.csv else None
    width = max(len(str(p)) for p in images + [s for s in scans if s is not None])
    out_file = open(args.output, "w", newline="") if args.output else None
    try:
        file_writer = csv.writer(out_file, lineterminator="\n") if out_file else None
        for w in (writer, file_writer):
            if w is not None:
                w.writerow(header)
        if writer is None:
            print(f"{header[0].ljust(width)}  {header[1].ljust(8)}  {header[2]}")
        rows = predict_images(model, images, scans=scans, aggregate=args.aggregate,
                              progress=sys.stderr.isatty())
        for row in rows:
            label = _label_name(row.label, names)
            record = (row.name, label, f"{row.p_tumor:.4f}", row.kind, row.n_slices,
                      row.scan or "")
            for w in (writer, file_writer):
                if w is not None:
                    w.writerow(record)
            if writer is None:
                line = f"{row.name.ljust(width)}  {label.ljust(8)}  {row.p_tumor:>7.4f}"
                if row.kind == "scan":
                    line += f"  scan: {args.aggregate} of {row.n_slices} slices"
                print(line)
            sys.stdout.flush()
    finally:
        if out_file is not None:
            out_file.close()
    return 0


def _target_label(text, model):
    """``--target`` as one of the model's labels: the label itself or its display name."""
    from ._unwrap import unwrap

    if text is None:
        return None
    classes = np.asarray(unwrap(model, caller="explain").estimator.classes_).tolist()
    for label in classes:
        if text in (str(label), _label_name(label)):
            return label
    raise CLIError(f"--target: {text!r} is not one of the model's classes "
                   f"({', '.join(_label_name(c) for c in classes)})")


def _cmd_explain(args):
    from .explain import save_gradcam_overlays

    model, _ = _load(args.model, args.allow_pickle)
    paths, _ = _expand_images(args.images)
    output = Path(args.output)
    if output.exists() and not output.is_dir():
        raise CLIError(f"--output: '{output}' is a file, not a folder")
    target = _target_label(args.target, model)
    written = save_gradcam_overlays(model, paths, output, target=target,
                                    class_names=CLASS_NAMES)
    width = max(len(row["image"]) for row in written)
    for row in written:
        print(f"{row['image'].ljust(width)}  {_label_name(row['label']).ljust(8)}  "
              f"p={row['probability']:.4f}  -> {row['figure']}")
    print(f"wrote {len(written)} Grad-CAM figure(s) to {output}")
    return 0


def _cmd_export(args):
    from ._unwrap import unwrap
    from .export import check_onnx, to_onnx

    model, _ = _load(args.model, args.allow_pickle)
    output = Path(args.onnx)
    if output.is_dir():
        raise CLIError(f"--onnx: '{output}' is a folder; give a file name such as "
                       f"'{output / 'model.onnx'}'")
    found = unwrap(model, caller="export")
    estimator = found.estimator
    size = tuple(int(v) for v in estimator.image_shape_[1:])
    to_onnx(model, output, image_size=size)
    difference = check_onnx(output, model)
    print(f"wrote {output}: {type(estimator).__name__}, input float32 (batch, "
          f"{estimator.image_shape_[0]}, {size[0]}, {size[1]}) in [0, 1], outputs "
          "probabilities and logits")
    print(f"parity: max |onnxruntime - predict_proba| = {difference:.2e} on 8 random images")
    if found.threshold is not None:
        print(f"note: the model decides tumor from probability {found.threshold:.4g} "
              f"({found.threshold_source}); the ONNX graph gives probabilities only")
    return 0 if difference < 1e-4 else 1


def _model_name(text, option):
    return _ask(registry.normalize_model_name, option, text)


def _prepare(args, names):
    """Estimators, output folder and data of compare and search, checked before training."""
    sets = parse_set_options(args.set)
    _check_device(sets.get("device", args.device))
    defaults = {**_estimator_defaults(args), "verbose": 0}
    estimators = {name: _build_estimator(name, sets, defaults) for name in names}
    output = Path(args.output)
    if output.exists() and not output.is_dir():
        raise CLIError(f"--output: '{output}' is a file, not a folder")
    data = _load_data(args.data, negative=args.negative)
    _refuse_inside(output / "results.csv", data, "--output")
    _say(f"data: {data.describe()} in {data.root}", quiet=args.quiet)
    _, X, _ = _resize(args, data.paths, args.quiet)
    return sets, estimators, output, data, X


def _cmd_compare(args):
    from .evaluation import compare_models
    from .plotting import plot_comparison

    started = time.perf_counter()
    names = [_model_name(n, "--models") for n in args.models.split(",") if n.strip()]
    if not names:
        raise CLIError("--models needs at least one model name")
    if len(set(names)) != len(names):
        raise CLIError(f"--models names a model twice: {args.models}")
    _, estimators, output, data, X = _prepare(args, names)
    _say(f"comparing {', '.join(names)} on {args.repeats} duplicate-aware split(s) "
         f"(test size {args.test_size})...", quiet=args.quiet)
    try:
        table = compare_models(estimators, X, data.target, data.groups,
                               n_repeats=args.repeats, test_size=args.test_size,
                               random_state=args.seed, verbose=0 if args.quiet else 1)
    except ValueError as exc:
        if "test_size" in str(exc) or "cannot split" in str(exc):
            raise CLIError(f"--test-size: {exc}") from None
        raise
    print()
    print(table)
    output.mkdir(parents=True, exist_ok=True)
    table.to_csv(output / "comparison.csv")
    table.to_markdown(output / "comparison.md")
    table.to_json(output / "comparison.json")
    metrics = [m for m in table.metrics if not m.endswith("_seconds")]
    _save_figure(plot_comparison(table, metrics), output / "comparison.png")
    print(f"\nwrote comparison.csv, comparison.md, comparison.json and comparison.png to "
          f"{output} ({time.perf_counter() - started:.1f} s in all)")
    return 0


def _cmd_search(args):
    from .evaluation import default_scoring
    from .search import default_search_space, plot_search, run_search, search_report

    started = time.perf_counter()
    name = _model_name(args.model, "--model")
    sets, estimators, output, data, X = _prepare(args, [name])
    space = {k: v for k, v in default_search_space(estimators[name]).items() if k not in sets}
    _say(f"searching {len(space)} parameters of {name} ({', '.join(sorted(space))}): "
         f"{args.n_iter} candidates x {args.cv} duplicate-aware folds...", quiet=args.quiet)
    main_score = default_scoring(data.target)
    scoring = ([main_score, "recall", "roc_auc"] if main_score == "f1" else
               [main_score, "balanced_accuracy", "roc_auc_ovr"])
    search = run_search(estimators[name], X, data.target, data.groups,
                        param_distributions=space, n_iter=args.n_iter, cv=args.cv,
                        scoring=scoring, refit=main_score, random_state=args.seed,
                        scheduler=args.scheduler, verbose=0 if args.quiet else 1)
    report = search_report(search)
    print()
    print(report)
    label = "F1" if main_score == "f1" else "macro F1"
    print(f"\nbest parameters (CV {label} {search.best_score_:.3f}): {search.best_params_}")
    output.mkdir(parents=True, exist_ok=True)
    report.to_csv(output / "search.csv")
    report.to_markdown(output / "search.md")
    _save_figure(plot_search(search), output / "search.png")
    print(f"wrote search.csv, search.md and search.png to {output} "
          f"({time.perf_counter() - started:.1f} s in all)")
    return 0


# --------------------------------------------------------------------- parser
ALLOW_PICKLE_HELP = ("also load a model file of the old pickle format (skbrain 0.x); this runs "
                     "any code the file holds, so only for files you trust")


def build_parser():
    """Build the ``skbrain`` argument parser (all sub-commands)."""
    parser = _Parser(
        prog="skbrain",
        description="Train, evaluate, compare and apply brain MRI tumor classifiers.",
        epilog="Images: --data DIR, else $SKBRAIN_DATA, else the downloaded Kaggle set.",
    )
    parser.add_argument("--version", action="version", version=f"skbrain {__version__}")
    parser.add_argument("--traceback", action="store_true",
                        help="show the full traceback of an error")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    data = _Parser(add_help=False)
    data.add_argument("--data", metavar="DIR",
                      help="folder with one subfolder per class, such as yes/ and no/ "
                           "(default: $SKBRAIN_DATA, else the download)")
    data.add_argument("--negative", metavar="CLASS",
                      help="the class folder that means no tumor (e.g. notumor): every "
                           "other class becomes tumor; without it the classes stay as they are")

    training = _Parser(add_help=False)
    training.add_argument("--image-size", type=_positive_int, default=150, metavar="PX",
                          help="side of the square images the network sees (default: 150)")
    training.add_argument("--test-size", type=_test_size, default=0.25, metavar="SHARE",
                          help="test share (or count) of a duplicate-aware stratified split "
                               "(default: 0.25)")
    training.add_argument("--set", action="append", metavar="KEY=VALUE",
                          help="an estimator parameter, e.g. --set max_epochs=10 --set "
                               "lr=3e-4 (repeatable; values are Python literals)")
    training.add_argument("--device", default="auto",
                          help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:1 ...")
    training.add_argument("--seed", type=int, default=0,
                          help="seeds the split and the estimator (default: 0)")
    training.add_argument("--quiet", "-q", action="store_true",
                          help="no progress output, only the results")

    commands.add_parser("models", help="list the model names, with parameter counts",
                        description="List every model name that train and compare accept.")

    train = commands.add_parser(
        "train", parents=[data, training], help="train, test and save one model",
        description="Split the images (duplicate-aware, stratified), train a model, print "
                    "its test scores and save the fitted pipeline, a metrics JSON, a "
                    "figure of test predictions and a model card (Markdown).")
    train.add_argument("--model", required=True,
                       help="a name from 'skbrain models' (e.g. wide, resnet18)")
    train.add_argument("--split-file", metavar="FILE",
                       help="JSON/CSV/text list of the test images (relative to the data "
                            "folder); replaces --test-size. A metrics JSON works too")
    train.add_argument("--search", type=_positive_int, metavar="N",
                       help="tune first: a randomized search of N candidates over the "
                            "model's default search space, grouped cross-validation")
    train.add_argument("--cv", type=_positive_int, default=3, metavar="K",
                       help="folds of the --search and --min-recall cross-validation "
                            "(default: 3)")
    train.add_argument("--min-recall", type=_share, metavar="R",
                       help="recall-first decision: choose the highest tumor-probability "
                            "threshold whose recall, in grouped cross-validation on the "
                            "training images, is at least R (e.g. 0.95); the model then "
                            "predicts tumor from that threshold up")
    train.add_argument("--test-data", metavar="DIR",
                       help="test on this other collection instead of a split: train on all "
                            "of --data; near-copies of training images are left out")
    train.add_argument("--keep-near-copies", action="store_true",
                       help="with --test-data, score near-copies of training images too")
    train.add_argument("--output", "-o", default=DEFAULT_OUTPUT, metavar="FILE",
                       help=f"model file (default: {DEFAULT_OUTPUT}); the metrics JSON, "
                            "figure and model card go beside it")

    evaluate = commands.add_parser(
        "evaluate", parents=[data], help="test a saved model again",
        description="Score a saved model on its saved test split (when the data folder is "
                    "the one it was trained from), else on every image of the folder.")
    evaluate.add_argument("model", metavar="MODEL", help="a .skbrain model file")
    evaluate.add_argument("--json", metavar="FILE", help="also write the scores as JSON")
    evaluate.add_argument("--keep-near-copies", action="store_true",
                          help="on another folder, also score the near-copies of the "
                               "training images")
    evaluate.add_argument("--allow-pickle", action="store_true", help=ALLOW_PICKLE_HELP)

    predict = commands.add_parser(
        "predict", help="label images with a saved model",
        description="Print each image's predicted label and tumor probability, one line "
                    "per image or slice and one per NIfTI volume or DICOM series.")
    predict.add_argument("model", metavar="MODEL", help="a .skbrain model file")
    predict.add_argument("images", metavar="IMAGE", nargs="+",
                         help="image files, DICOM files, NIfTI volumes (.nii, .nii.gz), or "
                              "folders of them (DICOM files read as series)")
    predict.add_argument("--csv", action="store_true", help="print CSV")
    predict.add_argument("--allow-pickle", action="store_true", help=ALLOW_PICKLE_HELP)

    explain = commands.add_parser(
        "explain", help="Grad-CAM figures of a saved model's evidence",
        description="Write one PNG per image: the image with the Grad-CAM map of the "
                    "predicted class (or --target), the predicted label and its probability.")
    explain.add_argument("model", metavar="MODEL", help="a .skbrain model file")
    explain.add_argument("images", metavar="IMAGE", nargs="+",
                         help="image files, or folders of images")
    explain.add_argument("--output", "-o", required=True, metavar="DIR",
                         help="folder for the figures (created if needed)")
    explain.add_argument("--target", metavar="LABEL",
                         help="explain this class (e.g. tumor, 'no tumor', 1) instead of the "
                              "predicted one")
    explain.add_argument("--allow-pickle", action="store_true", help=ALLOW_PICKLE_HELP)

    export = commands.add_parser(
        "export", help="write a saved model's network as ONNX",
        description="Export the network (with a softmax) as ONNX at the trained image size "
                    "and check it against the model in ONNX Runtime.")
    export.add_argument("model", metavar="MODEL", help="a .skbrain model file")
    export.add_argument("--onnx", required=True, metavar="FILE", help="the .onnx file to write")
    export.add_argument("--allow-pickle", action="store_true", help=ALLOW_PICKLE_HELP)
    predict.add_argument("--output", metavar="FILE",
                         help="also write the rows as CSV to FILE, as they come")
    predict.add_argument("--aggregate", choices=("max", "mean"), default="max",
                         help="a volume's or series' tumor probability from its slices' "
                              "(default: max)")
    predict.add_argument("--plane", choices=("axial", "coronal", "sagittal"),
                         default="axial", help="the plane NIfTI volumes are cut in "
                                               "(default: axial)")

    compare = commands.add_parser(
        "compare", parents=[data, training], help="compare models on the same splits",
        description="Train each model on the same duplicate-aware splits (one per repeat) "
                    "and write the table of mean ± sd scores as CSV, Markdown, JSON and a "
                    "bar chart.")
    compare.add_argument("--models", required=True, metavar="NAMES",
                         help="comma-separated names, e.g. simple,two-conv,wide,deep,pyramid")
    compare.add_argument("--repeats", type=_positive_int, default=5, metavar="N",
                         help="number of random splits (default: 5)")
    compare.add_argument("--output", "-o", default=".", metavar="DIR",
                         help="folder for comparison.csv/.md/.json/.png (default: .)")
    search = commands.add_parser(
        "search", parents=[data, training], help="random search of a model's hyperparameters",
        description="Random search over the model's shipped search space (parameters fixed "
                    "with --set are left out), scored by F1, recall and ROC AUC with "
                    "duplicate-aware grouped folds; writes the ranked table and a plot.")
    search.add_argument("--model", required=True, help="model name (see: skbrain models)")
    search.add_argument("--n-iter", type=_positive_int, default=20, metavar="N",
                        help="number of candidates (default: 20)")
    search.add_argument("--cv", type=_positive_int, default=3, metavar="K",
                        help="grouped folds per candidate (default: 3)")
    search.add_argument("--scheduler", metavar="ADDRESS",
                        help="a Dask scheduler, e.g. tcp://host:8786: candidates run on its "
                             "workers")
    search.add_argument("--output", "-o", default=".", metavar="DIR",
                        help="folder for search.csv/.md/.png (default: .)")
    return parser


COMMANDS = {
    "models": _cmd_models,
    "train": _cmd_train,
    "evaluate": _cmd_evaluate,
    "predict": _cmd_predict,
    "explain": _cmd_explain,
    "export": _cmd_export,
    "compare": _cmd_compare,
    "search": _cmd_search,
}


def _one_line(exc):
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def main(argv=None):
    """Run the ``skbrain`` command; return its exit status.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after ``skbrain``; ``None`` reads ``sys.argv``.

    Returns
    -------
    int
        0 on success, 2 for a bad request (one line on stderr), 1 for a
        failure while running, 130 when interrupted.

    Examples
    --------
    >>> main(["--version"])  # doctest: +ELLIPSIS
    skbrain ...
    0
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    show_traceback = "--traceback" in argv
    try:
        parser = build_parser()
        if not argv:
            parser.print_help()
            return 2
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help and --version
            return exc.code if isinstance(exc.code, int) else 0
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("skbrain: interrupted", file=sys.stderr)
        return 130
    except (CLIError, ModelFileError, ValueError, FileNotFoundError) as exc:
        if show_traceback:
            raise
        print(f"skbrain: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except (OSError, ImportError, RuntimeError, MemoryError) as exc:
        if show_traceback:
            raise
        print(f"skbrain: error: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return 1
    finally:
        sys.stdout.flush()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
