"""The ``skbrain`` command: the study's workflow from a shell.

Sub-commands::

    skbrain models                                   # every model name, with its size
    skbrain train --model wide --output wide.skbrain # split, train, test, save
    skbrain train --model wide --min-recall 0.95     # ... deciding at a recall-first threshold
    skbrain evaluate wide.skbrain                    # the same test scores again
    skbrain predict wide.skbrain scan1.jpg scan2.png # label and tumor probability
    skbrain compare --models simple,wide,deep --repeats 3 --output results/
    skbrain search --model wide --n-iter 20 --cv 3   # random search, grouped folds

The images come from ``--data DIR`` (a folder with ``yes/`` and ``no/``),
else from the folder in the ``SKBRAIN_DATA`` environment variable, else from
:func:`~skbrain.datasets.fetch_brain_mri`. Splits keep every group of
duplicate images on one side (:class:`~skbrain.evaluation.StratifiedGroupShuffleSplit`)
and nothing is ever written inside the data folder. Every file is written to
a temporary name first and renamed into place.

Errors in what was asked for (an unknown model, a missing folder, a bad
``--set``, a file that is not a model) end the command with exit status 2
and one line on standard error; ``--traceback`` shows the full traceback
instead.

Each command is a thin wrapper over library functions: :mod:`skbrain.registry`
(model names), :mod:`skbrain.evaluation` (splits, scores, comparisons),
:mod:`skbrain.plotting` (figures) and :mod:`skbrain.persistence` (model
files), so a notebook can do the same steps.
"""

import argparse
import ast
import csv
import datetime
import io
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
CLASS_NAMES = {0: "no tumor", 1: "tumor"}
PREDICTION_FIGURE_IMAGES = 12
PREDICT_CHUNK = 256


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


def _check_set_keys(name, sets):
    import difflib

    from ._base import SKORCH_PREFIXES

    valid = registry.get_estimator(name).get_params(deep=False)
    for key in sets:
        if key in valid or key.startswith(SKORCH_PREFIXES):
            continue
        close = difflib.get_close_matches(key, list(valid), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise CLIError(f"--set: {name} has no parameter {key!r}{hint}; its parameters are "
                       f"{', '.join(sorted(valid))}")


def _build_estimator(name, sets, defaults):
    """Build a named estimator with ``--set`` values over the command's defaults."""
    _check_set_keys(name, sets)
    try:
        estimator = registry.get_estimator(name, **{**defaults, **sets})
    except ValueError as exc:
        raise CLIError(f"--set: {exc}") from None
    _preflight(estimator, name)
    return estimator


def _preflight(estimator, name):
    """Reject bad hyperparameters now rather than after the images are decoded."""
    try:
        check = getattr(estimator, "_check_training_params", None)
        if check is not None:
            check()
        if hasattr(estimator, "_module_spec"):
            registry.build_module(estimator)
    except (ValueError, TypeError) as exc:
        raise CLIError(f"--set: {name}: {exc}") from None


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


def _label_name(label):
    key = label.item() if isinstance(label, np.generic) else label
    return CLASS_NAMES.get(key, str(label)) if isinstance(key, int) else str(label)


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


# ----------------------------------------------------------------------- data
class _Data:
    """The images of one folder: absolute paths, relpaths, labels, groups."""

    def __init__(self, root, paths, target, groups):
        # Identity is the resolved folder; relpaths come from the unresolved
        # paths, so a symlinked image still gets its name inside the folder.
        self.root = Path(root).resolve()
        self.paths = [str(p) for p in paths]
        base = os.path.abspath(root)
        self.relpaths = [Path(os.path.relpath(os.path.abspath(p), base)).as_posix()
                         for p in self.paths]
        self.target = np.asarray(target)
        self.groups = np.asarray(groups) if groups is not None else np.arange(len(paths))

    def __len__(self):
        return len(self.paths)

    def describe(self, index=None):
        y = self.target if index is None else self.target[index]
        return f"{len(y)} images ({int((y == 1).sum())} tumor, {int((y == 0).sum())} no tumor)"


def _load_data(data_arg, *, fallback=None):
    """Load the images from ``--data``, ``SKBRAIN_DATA``, ``fallback`` or the download."""
    from .datasets import fetch_brain_mri, load_brain_mri

    if data_arg:
        source, folder = "--data", Path(data_arg)
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
        bunch = load_brain_mri(folder)
    else:
        fetched = fetch_brain_mri()
        bunch = fetched if hasattr(fetched, "target") else load_brain_mri(fetched)
    if len(bunch.data) == 0:
        raise CLIError(f"{source or 'the data folder'}: no images found")
    # The class folders' parent; fetch_brain_mri chooses its own folder.
    root = folder if folder is not None else Path(os.path.abspath(bunch.data[0])).parent.parent
    return _Data(root, bunch.data, bunch.target, getattr(bunch, "groups", None))


def _refuse_inside(path, data, option):
    resolved = Path(path).resolve()
    if resolved == data.root or data.root in resolved.parents:
        raise CLIError(f"{option}: '{path}' is inside the data folder '{data.root}'; skbrain "
                       "never writes there")


def _read_split_file(path, data):
    """Test-set positions listed in a JSON, CSV or text file of image paths."""
    path = Path(path)
    if not path.is_file():
        raise CLIError(f"--split-file: '{path}' does not exist")
    text = path.read_text(encoding="utf-8-sig")
    entries = None
    if path.suffix.lower() == ".json" or text.lstrip()[:1] in ("[", "{"):
        try:
            content = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CLIError(f"--split-file: '{path}' is not valid JSON ({exc})") from None
        if isinstance(content, dict):
            content = content.get("split", content)
            content = content.get("test") if isinstance(content, dict) else None
        if isinstance(content, list) and all(isinstance(e, str) for e in content):
            entries = content
        else:
            raise CLIError(f"--split-file: '{path}' must hold a list of test files, or an "
                           "object with a 'test' list")
    else:
        rows = [row for row in csv.reader(io.StringIO(text)) if row and any(row)]
        header = [c.strip().lower() for c in rows[0]] if rows else []
        column = next((header.index(c) for c in ("relpath", "file", "path", "filename")
                       if c in header), None)
        if column is None:
            entries = [row[0].strip() for row in rows]
        elif "split" in header:
            split = header.index("split")
            entries = [row[column].strip() for row in rows[1:]
                       if row[split].strip().lower() == "test"]
        else:
            entries = [row[column].strip() for row in rows[1:]]
    if not entries:
        raise CLIError(f"--split-file: '{path}' lists no test files")
    index = {rel: i for i, rel in enumerate(data.relpaths)}
    by_tail = {"/".join(rel.split("/")[-2:]): i for i, rel in enumerate(data.relpaths)}
    test, unknown = set(), []
    for entry in entries:
        posix = Path(entry).as_posix()
        if Path(entry).is_absolute():
            try:
                posix = Path(entry).resolve().relative_to(data.root).as_posix()
            except ValueError:
                pass
        i = index.get(posix, by_tail.get("/".join(posix.split("/")[-2:])))
        if i is None:
            unknown.append(entry)
        else:
            test.add(i)
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:3])
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise CLIError(f"--split-file: {shown}{more} not found in '{data.root}'")
    test = np.array(sorted(test))
    train = np.setdiff1d(np.arange(len(data)), test)
    if len(train) == 0:
        raise CLIError("--split-file: it lists every image; nothing is left to train on")
    return train, test


def _split(args, data):
    from .evaluation import StratifiedGroupShuffleSplit

    if args.split_file:
        train, test = _read_split_file(args.split_file, data)
        return train, test, {"method": "file", "split_file": str(Path(args.split_file))}
    cv = StratifiedGroupShuffleSplit(1, test_size=args.test_size, random_state=args.seed)
    try:
        train, test = next(cv.split(data.paths, data.target, data.groups))
    except ValueError as exc:
        raise CLIError(f"--test-size: {exc}") from None
    return train, test, {"method": "grouped-stratified", "test_size": args.test_size,
                         "seed": args.seed}


def _resize(args, paths, quiet):
    from .preprocessing import ImageResizer

    resizer = ImageResizer(size=args.image_size, n_jobs=-1)
    start = time.perf_counter()
    X = resizer.fit_transform(paths)
    seconds = time.perf_counter() - start
    _say(f"decoded and resized {len(paths)} images to {args.image_size}x{args.image_size} "
         f"in {seconds:.1f} s", quiet=quiet)
    return resizer, X, seconds


def _predict(model, X):
    """Labels (as ``model.predict`` decides) and tumor probabilities, decoding once."""
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline) and len(model.steps) > 1:
        X = model[:-1].transform(X)
        model = model[-1]
    labels = np.asarray(model.predict(X))
    proba = model.predict_proba(X)
    classes = np.asarray(model.classes_)
    column = np.flatnonzero(classes == 1)
    tumor = proba[:, column[0] if len(column) else -1]
    return labels, tumor


def _predict_files(model, paths):
    """Yield ``(paths, labels, tumor probabilities)`` per chunk of files.

    Chunks keep memory bounded for folders of any size: only PREDICT_CHUNK
    decoded images are held at a time.
    """
    for start in range(0, len(paths), PREDICT_CHUNK):
        chunk = paths[start:start + PREDICT_CHUNK]
        labels, proba = _predict(model, chunk)
        yield chunk, labels, proba


def _predict_all(model, paths):
    parts = list(_predict_files(model, paths))
    return (np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts]))


def _figure_sample(y_test, seed):
    """Positions of up to PREDICTION_FIGURE_IMAGES test images, both classes alike."""
    rng = np.random.default_rng(seed)
    per_class = PREDICTION_FIGURE_IMAGES // 2
    chosen = []
    for label in np.unique(y_test):
        members = np.flatnonzero(y_test == label)
        chosen += sorted(rng.permutation(members)[:per_class].tolist())
    return np.array(chosen[:PREDICTION_FIGURE_IMAGES])


def _scores_table(name, scores):
    from .evaluation import ResultsTable

    return ResultsTable([{"model": name, **scores}],
                        metrics=[m for m in SCORE_COLUMNS if m in scores])


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
    if any(r[2] == "n/a" for r in rows):
        print("(n/a: the pretrained families need skbrain.pretrained, missing here)")
    return 0


def _estimator_defaults(args):
    defaults = {"random_state": args.seed, "device": args.device,
                "verbose": 0 if args.quiet else 1}
    return defaults


def _run_search(args, estimator, sets, X, y, groups):
    """``--search N``: a grouped RandomizedSearchCV over the estimator's default space."""
    try:
        from .search import default_search_space, run_search
    except ImportError:
        raise CLIError("--search is not available yet in this version of skbrain") from None
    from sklearn.pipeline import Pipeline

    # The images are resized already, so the searched pipeline skips that step.
    pipe = Pipeline([("resize", "passthrough"), ("cnn", estimator.set_params(verbose=0))])
    try:
        space = default_search_space(pipe, step="cnn")
    except TypeError as exc:
        raise CLIError(f"--search: {exc}") from None
    # What the user fixed with --set is not searched.
    space = {k: v for k, v in space.items() if k[len("cnn__"):] not in sets}
    if not space:
        raise CLIError("--search: every searchable parameter is fixed by --set")
    search = run_search(pipe, X, y, groups, param_distributions=space, n_iter=args.search,
                        cv=args.cv, scoring="f1", random_state=args.seed,
                        verbose=0 if args.quiet else 1)
    best = search.best_estimator_.named_steps["cnn"]
    summary = {
        "n_iter": args.search, "cv": args.cv, "scoring": "f1",
        "best_params": {k[len("cnn__"):]: v for k, v in search.best_params_.items()},
        "best_score": float(search.best_score_),
    }
    return best, summary


def _min_recall_score(y_true, y_pred, *, min_recall, pos_label=1):
    """Objective whose best threshold is the highest one keeping recall >= min_recall.

    Thresholds that keep the recall floor score 1 plus the share of images
    called negative (which only grows with the threshold); the others score
    their recall minus 1, so the floor always wins and, where no threshold
    reaches it, the closest one does.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    positive = y_true == pos_label
    recall = float(np.mean(y_pred[positive] == pos_label)) if positive.any() else 1.0
    if recall + 1e-12 < min_recall:
        return recall - 1.0
    return 1.0 + float(np.mean(y_pred != pos_label))


def _tune_threshold(args, estimator, X, y, groups, quiet):
    """``--min-recall``: pick the decision threshold by grouped CV on the training part.

    Returns the refitted estimator, wrapped in a FixedThresholdClassifier at the
    chosen threshold, and a summary for the report.
    """
    from sklearn.frozen import FrozenEstimator
    from sklearn.metrics import make_scorer
    from sklearn.model_selection import (
        FixedThresholdClassifier,
        StratifiedGroupKFold,
        TunedThresholdClassifierCV,
    )

    cv = StratifiedGroupKFold(n_splits=args.cv, shuffle=True, random_state=args.seed)
    try:
        splits = list(cv.split(X, y, groups))
    except ValueError as exc:
        raise CLIError(f"--cv: {exc}") from None
    _say(f"choosing the threshold for recall >= {args.min_recall:g}: {args.cv}-fold grouped "
         "cross-validation on the training images, then a final fit on all of them...",
         quiet=quiet)
    scorer = make_scorer(_min_recall_score, min_recall=args.min_recall, pos_label=1)
    tuned = TunedThresholdClassifierCV(estimator, scoring=scorer, response_method="predict_proba",
                                       thresholds=200, cv=splits, refit=True)
    try:
        tuned.fit(X, y)
    except ValueError as exc:
        if "constant predictions" in str(exc):
            raise CLIError("--min-recall: the cross-validated models predict the same "
                           "probability for every image, so no threshold can be chosen; "
                           "train longer (--set max_epochs=...)") from None
        raise
    threshold = float(tuned.best_threshold_)
    fixed = FixedThresholdClassifier(FrozenEstimator(tuned.estimator_), threshold=threshold,
                                     response_method="predict_proba", pos_label=1)
    fixed.fit(X, y)  # the frozen estimator is not trained again
    summary = {"min_recall": args.min_recall, "threshold": threshold, "cv": args.cv,
               "cv_reaches_min_recall": bool(tuned.best_score_ >= 1.0),
               "method": "TunedThresholdClassifierCV, grouped StratifiedGroupKFold on the "
                         "training images; the highest threshold whose recall >= min_recall"}
    return fixed, summary


def _threshold_report(fixed, X_test, y_test, summary):
    """Test precision and recall at the default decision and at the tuned threshold."""
    from .evaluation import classification_scores

    base = fixed.estimator_.estimator
    default = classification_scores(y_test, base.predict(X_test), pos_label=1)
    tuned = classification_scores(y_test, fixed.predict(X_test), pos_label=1)
    summary["test_default"] = {k: default[k] for k in ("precision", "recall")}
    summary["test_threshold"] = {k: tuned[k] for k in ("precision", "recall")}
    summary["precision_cost"] = default["precision"] - tuned["precision"]
    return (f"threshold {summary['threshold']:.4f} (recall >= {summary['min_recall']:g} in "
            f"{summary['cv']}-fold grouped CV on the training images"
            + ("" if summary["cv_reaches_min_recall"] else "; not reached, closest taken")
            + f"): test recall {default['recall']:.3f} -> {tuned['recall']:.3f}, precision "
            f"{default['precision']:.3f} -> {tuned['precision']:.3f} (costs "
            f"{summary['precision_cost']:+.3f}) against the default 0.5 decision")


def _write_model_card(path, model, data, train, test, split_info, args, threshold_info):
    from .model_card import model_card

    y_train = data.target[train]
    n_groups = len(np.unique(data.groups))
    training_info = {
        "n_images": len(train),
        "class_counts": {1: int((y_train == 1).sum()), 0: int((y_train == 0).sum())},
        "source": f"{data.root} ({data.describe()} in all)",
        "duplicates": (f"the {len(data)} images are {n_groups} distinct pictures (copies and "
                       "near-copies grouped); each group lies wholly in training or in test"
                       if split_info.get("method") != "file" else
                       "split read from --split-file; duplicates kept apart only if the "
                       "file does"),
        "split": (f"{len(train)} training / {len(test)} test images "
                  f"({split_info.get('method')}, seed {args.seed})"),
        "image_size": f"{args.image_size}x{args.image_size}",
    }
    if threshold_info is not None:
        training_info["threshold_selection"] = (
            f"the highest threshold whose recall reached {threshold_info['min_recall']:g} in "
            f"{threshold_info['cv']}-fold grouped cross-validation on the training images "
            "(TunedThresholdClassifierCV), kept by FixedThresholdClassifier")
    # The saved pipeline reads the test files itself, as it will in use.
    model_card(model, [data.paths[i] for i in test], data.target[test], path,
               training_info=training_info)


def _cmd_train(args):
    from sklearn.pipeline import Pipeline

    from .evaluation import classification_scores
    from .persistence import _versions, save_model
    from .plotting import plot_predictions

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

    data = _load_data(args.data)
    _refuse_inside(output, data, "--output")
    train, test, split_info = _split(args, data)
    _say(f"data: {data.describe()} in {data.root}", quiet=quiet)
    _say(f"split: train {data.describe(train)}, test {data.describe(test)}", quiet=quiet)

    resizer, X, load_seconds = _resize(args, data.paths, quiet)
    y = data.target
    _say(f"training {name} ({type(estimator).__name__}) on {len(train)} images...",
         quiet=quiet)
    start = time.perf_counter()
    search_info = None
    if args.search is not None:
        estimator, search_info = _run_search(args, estimator, sets, X[train], y[train],
                                             data.groups[train])
    elif args.min_recall is None:
        estimator.fit(X[train], y[train])
    threshold_info = None
    decision = estimator
    if args.min_recall is not None:
        decision, threshold_info = _tune_threshold(args, estimator, X[train], y[train],
                                                   data.groups[train], quiet)
        estimator = decision.estimator_.estimator
    fit_seconds = time.perf_counter() - start
    model = Pipeline([("resize", resizer), ("cnn", decision)])

    start = time.perf_counter()
    y_pred, proba = _predict(decision, X[test])
    predict_seconds = time.perf_counter() - start
    scores = classification_scores(y[test], y_pred, proba, pos_label=1)
    print(f"\ntest scores of {name} on {data.describe(test)}:")
    print(_scores_table(name, scores))
    if threshold_info is not None:
        print(_threshold_report(decision, X[test], y[test], threshold_info))

    output.parent.mkdir(parents=True, exist_ok=True)
    metrics_path = _sibling(output, ".metrics.json")
    figure_path = _sibling(output, ".predictions.png")
    card_path = _sibling(output, ".model_card.md")
    report = {
        "command": "train",
        "model": name,
        "estimator": type(estimator).__name__,
        "metrics": scores,
        "n_train": len(train),
        "n_test": len(test),
        "image_size": args.image_size,
        "device": getattr(estimator, "device_", None),
        "data": {"path": str(data.root), "n_images": len(data),
                 "n_tumor": int((y == 1).sum()), "n_no_tumor": int((y == 0).sum())},
        "split": {**split_info, "train": [data.relpaths[i] for i in train],
                  "test": [data.relpaths[i] for i in test]},
        "set": sets,
        "params": estimator.get_params(deep=False),
        "search": search_info,
        "threshold": threshold_info,
        "class_names": CLASS_NAMES,
        "timings": {"load_seconds": load_seconds, "fit_seconds": fit_seconds,
                    "predict_seconds": predict_seconds},
        "versions": _versions(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    save_model(model, output, metadata=_jsonable(report))
    shown = _figure_sample(y[test], args.seed)
    fig = plot_predictions([data.paths[test[i]] for i in shown], y[test][shown], y_pred[shown],
                           proba[shown], n=None)
    fig.suptitle(f"{name}: test images, true and predicted labels")
    _save_figure(fig, figure_path)
    _write_model_card(card_path, model, data, train, test, split_info, args, threshold_info)
    report["timings"]["total_seconds"] = time.perf_counter() - started
    report["files"] = {"model": str(output), "metrics": str(metrics_path),
                       "figure": str(figure_path), "model_card": str(card_path)}
    _write_json(metrics_path, report)
    print(f"\nwrote {output}, {metrics_path}, {figure_path} and {card_path} "
          f"({report['timings']['total_seconds']:.1f} s in all)")
    return 0


def _load(path):
    from .persistence import load_model

    try:
        return load_model(path, return_info=True)
    except FileNotFoundError as exc:
        raise CLIError(str(exc)) from None


def _cmd_evaluate(args):
    from .evaluation import classification_scores

    model, info = _load(args.model)
    meta = info.get("metadata") or {}
    saved_root = (meta.get("data") or {}).get("path")
    data = _load_data(args.data, fallback=saved_root)
    test_files = (meta.get("split") or {}).get("test")
    same_folder = saved_root is not None and Path(saved_root).resolve() == data.root
    if test_files and same_folder and set(test_files) <= set(data.relpaths):
        index = {rel: i for i, rel in enumerate(data.relpaths)}
        rows = np.array([index[rel] for rel in test_files])
        where = f"the saved test split: {data.describe(rows)}"
    else:
        rows = np.arange(len(data))
        where = f"all {data.describe()} in {data.root}"
        if test_files:
            where += " (not the training folder, or changed: the saved split does not apply)"
        else:
            where += " (no saved split: the model may have been trained on some of them)"
    paths = [data.paths[i] for i in rows]
    y_true = data.target[rows]
    y_pred, proba = _predict_all(model, paths)
    scores = classification_scores(y_true, y_pred, proba, pos_label=1)
    name = meta.get("model") or type(model).__name__
    print(f"test scores of {name} on {where}:")
    print(_scores_table(name, scores))
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

    model, _ = _load(args.model)
    images, scans = _expand_images(args.images, plane=args.plane)
    header = ("file", "label", "p_tumor", "kind", "n_slices", "scan")
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
            label = _label_name(row.label)
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


def _model_name(text, option):
    try:
        return registry.normalize_model_name(text)
    except ValueError as exc:
        raise CLIError(f"{option}: {exc}") from None


def _cmd_compare(args):
    from .evaluation import compare_models
    from .plotting import plot_comparison

    started = time.perf_counter()
    names = [_model_name(n, "--models") for n in args.models.split(",") if n.strip()]
    if not names:
        raise CLIError("--models needs at least one model name")
    if len(set(names)) != len(names):
        raise CLIError(f"--models names a model twice: {args.models}")
    sets = parse_set_options(args.set)
    _check_device(sets.get("device", args.device))
    defaults = {**_estimator_defaults(args), "verbose": 0}
    estimators = {name: _build_estimator(name, sets, defaults) for name in names}
    output = Path(args.output)
    if output.exists() and not output.is_dir():
        raise CLIError(f"--output: '{output}' is a file, not a folder")

    data = _load_data(args.data)
    _refuse_inside(output / "comparison.csv", data, "--output")
    _say(f"data: {data.describe()} in {data.root}", quiet=args.quiet)
    _, X, _ = _resize(args, data.paths, args.quiet)
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
    fig = plot_comparison(table)
    _save_figure(fig, output / "comparison.png")
    print(f"\nwrote comparison.csv, comparison.md, comparison.json and comparison.png to "
          f"{output} ({time.perf_counter() - started:.1f} s in all)")
    return 0


def _cmd_search(args):
    from .search import default_search_space, plot_search, run_search, search_report

    started = time.perf_counter()
    name = _model_name(args.model, "--model")
    sets = parse_set_options(args.set)
    _check_device(sets.get("device", args.device))
    estimator = _build_estimator(name, sets, {**_estimator_defaults(args), "verbose": 0})
    output = Path(args.output)
    if output.exists() and not output.is_dir():
        raise CLIError(f"--output: '{output}' is a file, not a folder")
    data = _load_data(args.data)
    _refuse_inside(output / "search.csv", data, "--output")
    _say(f"data: {data.describe()} in {data.root}", quiet=args.quiet)
    _, X, _ = _resize(args, data.paths, args.quiet)
    fixed = set(sets)
    space = {k: v for k, v in default_search_space(estimator).items() if k not in fixed}
    _say(f"searching {len(space)} parameters of {name} ({', '.join(sorted(space))}): "
         f"{args.n_iter} candidates x {args.cv} duplicate-aware folds...", quiet=args.quiet)
    search = run_search(estimator, X, data.target, data.groups, param_distributions=space,
                        n_iter=args.n_iter, cv=args.cv, scoring=["f1", "recall", "roc_auc"],
                        refit="f1", random_state=args.seed, scheduler=args.scheduler,
                        verbose=0 if args.quiet else 1)
    report = search_report(search)
    print()
    print(report)
    print(f"\nbest parameters (CV F1 {search.best_score_:.3f}): {search.best_params_}")
    output.mkdir(parents=True, exist_ok=True)
    report.to_csv(output / "search.csv")
    report.to_markdown(output / "search.md")
    _save_figure(plot_search(search), output / "search.png")
    print(f"wrote search.csv, search.md and search.png to {output} "
          f"({time.perf_counter() - started:.1f} s in all)")
    return 0


# --------------------------------------------------------------------- parser
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
                      help="folder with yes/ and no/ subfolders (default: $SKBRAIN_DATA, "
                           "else the download)")

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
    train.add_argument("--output", "-o", default=DEFAULT_OUTPUT, metavar="FILE",
                       help=f"model file (default: {DEFAULT_OUTPUT}); the metrics JSON, "
                            "figure and model card go beside it")

    evaluate = commands.add_parser(
        "evaluate", parents=[data], help="test a saved model again",
        description="Score a saved model on its saved test split (when the data folder is "
                    "the one it was trained from), else on every image of the folder.")
    evaluate.add_argument("model", metavar="MODEL", help="a .skbrain model file")
    evaluate.add_argument("--json", metavar="FILE", help="also write the scores as JSON")

    predict = commands.add_parser(
        "predict", help="label images with a saved model",
        description="Print each image's predicted label and tumor probability, one line "
                    "per image or slice and one per NIfTI volume or DICOM series.")
    predict.add_argument("model", metavar="MODEL", help="a .skbrain model file")
    predict.add_argument("images", metavar="IMAGE", nargs="+",
                         help="image files, DICOM files, NIfTI volumes (.nii, .nii.gz), or "
                              "folders of them (DICOM files read as series)")
    predict.add_argument("--csv", action="store_true", help="print CSV")
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
