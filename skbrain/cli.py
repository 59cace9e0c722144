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

The images come from ``--data DIR`` (one sub-folder per class; DICOM or
pictures), else ``SKBRAIN_DATA``, else :func:`~skbrain.datasets.fetch_brain_mri`.
Errors in what was asked for end the command with exit status 2 and one line
on standard error, before any training; ``--traceback`` shows the traceback.

This module only parses, calls and prints: the steps are library functions
(:func:`skbrain.training.train_and_save`, :func:`skbrain.datasets.load_images`,
:func:`skbrain.evaluation.evaluate_saved_model`, :mod:`skbrain.search`,
:mod:`skbrain.inference`, :mod:`skbrain.explain`, :mod:`skbrain.export`), so a
notebook can do the same.
"""

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

from . import registry
from ._version import __version__
from .exceptions import ModelFileError
from .training import parse_set_options

__all__ = ["main", "build_parser", "parse_set_options"]

DEFAULT_OUTPUT = "skbrain-model.skbrain"
SCORE_COLUMNS = ("accuracy", "precision", "recall", "f1", "roc_auc")
ACROSS_COLUMNS = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc")
CLASS_NAMES = {0: "no tumor", 1: "tumor"}
# Library errors about one argument start with its name; these are the CLI's options.
_OPTIONS = {"data", "negative", "test_data", "split_file", "test_size", "cv", "search",
            "min_recall", "output"}


class CLIError(Exception):
    """A problem with what was asked for; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise CLIError(f"{message} (see '{self.prog} --help')")


# -------------------------------------------------------------------- helpers
def _say(*parts, quiet=False):
    if not quiet:
        print(*parts, flush=True)


def _ask(call, option, *args, **kwargs):
    """Run a library call; its ValueError becomes one line about the option it concerns."""
    try:
        return call(*args, **kwargs)
    except ValueError as exc:
        head, sep, rest = str(exc).partition(": ")
        if sep and head in _OPTIONS:
            suffix = " by --set" if head == "search" else ""
            raise CLIError(f"--{head.replace('_', '-')}: {rest}{suffix}") from None
        if option is None:
            raise
        raise CLIError(f"{option}: {exc}") from None


def _typed(parse, expected):
    """An argparse type: ``parse`` returns the value, or None when out of range."""
    def convert(text):
        try:
            value = parse(text)
        except ValueError:
            value = None
        if value is None:
            raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}")
        return value
    return convert


def _count_or_share(text):
    value = float(text)
    return int(value) if value.is_integer() and value >= 1 else value if 0 < value < 1 else None


_positive_int = _typed(lambda t: int(t) if int(t) >= 1 else None, "a positive integer")
_test_size = _typed(_count_or_share, "a share in (0, 1) or a count")
_share = _typed(lambda t: float(t) if 0 < float(t) <= 1 else None, "a number in (0, 1]")


def _label_name(label, names=None):
    key = label.item() if isinstance(label, np.generic) else label
    names = CLASS_NAMES if names is None else names
    return names.get(str(key), names.get(key, str(label))) if isinstance(key, int) else str(label)


def _scores_table(name, scores, names, across):
    from .evaluation import scores_table

    return scores_table(name, scores, ACROSS_COLUMNS if across else SCORE_COLUMNS,
                        class_names=names)


def _model_name(text, option):
    return _ask(registry.normalize_model_name, option, text)


def _estimators(args, names, verbose):
    """The ``--set`` parameters and the named estimators, checked before any data is read."""
    from ._base import resolve_device
    from .training import build_estimator

    sets = parse_set_options(args.set)
    _ask(resolve_device, "--device", sets.get("device", args.device))
    defaults = {"random_state": args.seed, "device": args.device, "verbose": verbose}
    return sets, {n: _ask(build_estimator, "--set", n, sets, **defaults) for n in names}


def _load_data(data_arg, *, fallback=None, negative=None, option="--data"):
    """:func:`~skbrain.datasets.load_images` of ``--data``, ``SKBRAIN_DATA``, ``fallback``
    or the download."""
    from .datasets import fetch_brain_mri, load_images

    if data_arg:
        source, folder = option, data_arg
    elif os.environ.get("SKBRAIN_DATA"):
        source, folder = "SKBRAIN_DATA", os.environ["SKBRAIN_DATA"]
    elif fallback is not None and Path(fallback).is_dir():
        source, folder = "the model's data folder", fallback
    elif negative:
        raise CLIError("--negative needs --data: the downloaded images have two classes")
    else:  # fetch_brain_mri chooses its own folder: the class folders' parent
        fetched = fetch_brain_mri()
        source, folder = "the data folder", (Path(os.path.abspath(fetched.data[0])).parent.parent
                                             if hasattr(fetched, "target") else fetched)
    return _ask(load_images, source, folder, negative=negative)


def _refuse_binary_options(data, **options):
    """A two-class option asked of a multi-class folder stops here, before any training."""
    from .training import check_binary_options

    try:
        check_binary_options(data.target, data.target_names, **options)
    except ValueError as exc:
        raise CLIError(f"{exc}; join the classes with --negative NAME (e.g. --negative "
                       "notumor)") from None


def _load(path, allow_pickle=False):
    from .persistence import load_model

    try:
        return load_model(path, return_info=True, allow_pickle=allow_pickle)
    except FileNotFoundError as exc:
        raise CLIError(str(exc)) from None


def _expand_images(items, plane="axial"):
    """(images, scans): files, folders, NIfTI volumes and DICOM series as 2-D images."""
    from .datasets import expand_scans

    return _ask(expand_scans, "IMAGE", items, plane=plane)


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


def _cmd_train(args):
    from .thresholds import describe_threshold
    from .training import train_and_save

    name = _model_name(args.model, "--model")
    sets, estimators = _estimators(args, [name], 0 if args.quiet else 1)
    if (args.search is not None or args.min_recall is not None) and args.cv < 2:
        raise CLIError("--cv must be at least 2")
    output = Path(args.output)
    if output.is_dir():
        raise CLIError(f"--output: '{output}' is a folder; give a file name such as "
                       f"'{output / 'model.skbrain'}'")
    if args.test_data and args.split_file:
        raise CLIError("--test-data and --split-file both choose the test images; give one")
    data = _load_data(args.data, negative=args.negative)
    test_data = args.test_data and _load_data(args.test_data, negative=args.negative,
                                              option="--test-data")
    _refuse_binary_options(data, **{"--min-recall": args.min_recall})
    result = _ask(train_and_save, None, name, data, output, estimator=estimators[name],
                  params=sets, test_data=test_data or None, split_file=args.split_file,
                  test_size=args.test_size, image_size=args.image_size, search=args.search,
                  cv=args.cv, min_recall=args.min_recall, random_state=args.seed,
                  keep_near_copies=args.keep_near_copies, verbose=0 if args.quiet else 1,
                  log=lambda line: print(line, flush=True))
    print(f"\ntest scores of {name} on {result.test_description}:")
    print(_scores_table(name, result.scores, data.class_names, result.across))
    if result.threshold is not None:
        print(describe_threshold(result.threshold))
    *written, last = map(str, result.files.values())
    print(f"\nwrote {', '.join(written)} and {last} "
          f"({result.report['timings']['total_seconds']:.1f} s in all)")
    return 0


def _cmd_evaluate(args):
    from .evaluation import evaluate_saved_model
    from .persistence import write_json
    from .training import check_output

    model, info = _load(args.model, args.allow_pickle)
    meta = info.get("metadata") or {}
    saved = meta.get("data") or {}
    data = _load_data(args.data, fallback=saved.get("path"),
                      negative=args.negative or saved.get("negative"))
    if args.json:
        try:
            check_output(args.json, data.root)
        except ValueError as exc:  # "output: ..." is --json's here
            raise CLIError("--json" + str(exc)[len("output"):]) from None
    result = _ask(evaluate_saved_model, None, model, data, meta,
                  keep_near_copies=args.keep_near_copies)
    print(f"test scores of {result.name} on {result.where}:")
    if result.n_near_copies is not None:
        what = "kept (--keep-near-copies)" if args.keep_near_copies else "left out"
        print(f"near-copies of the training images: {result.n_near_copies}; {what}")
    print(_scores_table(result.name, result.scores, result.class_names, result.across))
    if args.json:
        write_json(args.json, {"command": "evaluate", "model_file": str(args.model),
                               "model": result.name, "metrics": result.scores,
                               "n_images": len(result.rows), "data": str(data.root),
                               "files": [data.relpaths[i] for i in result.rows]})
    return 0


def _cmd_predict(args):
    from .inference import predict_images

    model, info = _load(args.model, args.allow_pickle)
    names = (info.get("metadata") or {}).get("class_names")
    images, scans = _expand_images(args.images, plane=args.plane)
    header = ("file", "label", "p_tumor" if len(model.classes_) <= 2 else "p_label", "kind",
              "n_slices", "scan")
    width = max(len(str(p)) for p in images + [s for s in scans if s is not None])
    out_file = open(args.output, "w", newline="") if args.output else None
    try:
        writers = [csv.writer(f, lineterminator="\n") for f in
                   ([sys.stdout] if args.csv else []) + ([out_file] if out_file else [])]
        for w in writers:
            w.writerow(header)
        if not args.csv:
            print(f"{header[0].ljust(width)}  {header[1].ljust(8)}  {header[2]}")
        for row in predict_images(model, images, scans=scans, aggregate=args.aggregate,
                                  progress=sys.stderr.isatty()):
            label = _label_name(row.label, names)
            for w in writers:
                w.writerow((row.name, label, f"{row.p_tumor:.4f}", row.kind, row.n_slices,
                            row.scan or ""))
            if not args.csv:
                scan = (f"  scan: {args.aggregate} of {row.n_slices} slices"
                        if row.kind == "scan" else "")
                print(f"{row.name.ljust(width)}  {label.ljust(8)}  {row.p_tumor:>7.4f}{scan}")
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


def _prepare(args, names):
    """Estimators, output folder and resized images of compare and search, checked first."""
    from .datasets import describe_images
    from .preprocessing import ImageResizer
    from .training import check_output

    sets, estimators = _estimators(args, names, 0)
    output = Path(args.output)
    if output.exists() and not output.is_dir():
        raise CLIError(f"--output: '{output}' is a file, not a folder")
    data = _load_data(args.data, negative=args.negative)
    _ask(check_output, None, output / "results.csv", data.root)
    _say(f"data: {describe_images(data)} in {data.root}", quiet=args.quiet)
    start = time.perf_counter()
    X = ImageResizer(size=args.image_size, n_jobs=-1).fit_transform(list(map(str, data.data)))
    _say(f"decoded and resized {len(X)} images to {args.image_size}x{args.image_size} "
         f"in {time.perf_counter() - start:.1f} s", quiet=args.quiet)
    return sets, estimators, output, data, X


def _cmd_compare(args):
    from .evaluation import compare_models
    from .persistence import save_figure
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
    print(f"\n{table}")
    output.mkdir(parents=True, exist_ok=True)
    table.to_csv(output / "comparison.csv")
    table.to_markdown(output / "comparison.md")
    table.to_json(output / "comparison.json")
    metrics = [m for m in table.metrics if not m.endswith("_seconds")]
    save_figure(plot_comparison(table, metrics), output / "comparison.png")
    print(f"\nwrote comparison.csv, comparison.md, comparison.json and comparison.png to "
          f"{output} ({time.perf_counter() - started:.1f} s in all)")
    return 0


def _cmd_search(args):
    from .evaluation import default_scoring
    from .persistence import save_figure
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
    print(f"\n{report}")
    label = "F1" if main_score == "f1" else "macro F1"
    print(f"\nbest parameters (CV {label} {search.best_score_:.3f}): {search.best_params_}")
    output.mkdir(parents=True, exist_ok=True)
    report.to_csv(output / "search.csv")
    report.to_markdown(output / "search.md")
    save_figure(plot_search(search), output / "search.png")
    print(f"wrote search.csv, search.md and search.png to {output} "
          f"({time.perf_counter() - started:.1f} s in all)")
    return 0


# --------------------------------------------------------------------- parser
ALLOW_PICKLE_HELP = ("also load a model file of the old pickle format (skbrain 0.x); this runs "
                     "any code the file holds, so only for files you trust")


def build_parser():
    """Build the ``skbrain`` argument parser (all sub-commands)."""
    parser = _Parser(prog="skbrain", description="Train, evaluate, compare and apply brain MRI "
                     "tumor classifiers.", epilog="Images: --data DIR, else $SKBRAIN_DATA, "
                     "else the downloaded Kaggle set.")
    parser.add_argument("--version", action="version", version=f"skbrain {__version__}")
    parser.add_argument("--traceback", action="store_true",
                        help="show the full traceback of an error")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name, help, description, parents=()):
        return commands.add_parser(name, help=help, description=description, parents=parents)

    data = _Parser(add_help=False)
    data.add_argument("--data", metavar="DIR", help="folder with one subfolder per class, such "
                      "as yes/ and no/, of pictures or DICOM files (default: $SKBRAIN_DATA, "
                      "else the download)")
    data.add_argument("--negative", metavar="CLASS", help="the class folder that means no tumor "
                      "(e.g. notumor): every other class becomes tumor")
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
    saved = _Parser(add_help=False)
    saved.add_argument("model", metavar="MODEL", help="a .skbrain model file")
    saved.add_argument("--allow-pickle", action="store_true", help=ALLOW_PICKLE_HELP)

    command("models", "list the model names, with parameter counts",
            "List every model name that train and compare accept.")
    train = command("train", "train, test and save one model", "Split the images "
                    "(duplicate-aware, stratified), train a model, print its test scores and "
                    "save the fitted pipeline, a metrics JSON, a figure of test predictions "
                    "and a model card (Markdown).", [data, training])
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
                       help="recall-first decision: the highest tumor-probability threshold "
                            "whose recall, in grouped cross-validation on the training "
                            "images, is at least R (e.g. 0.95)")
    train.add_argument("--test-data", metavar="DIR",
                       help="test on this other collection instead of a split: train on all "
                            "of --data; near-copies of training images are left out")
    train.add_argument("--keep-near-copies", action="store_true",
                       help="with --test-data, score near-copies of training images too")
    train.add_argument("--output", "-o", default=DEFAULT_OUTPUT, metavar="FILE",
                       help=f"model file (default: {DEFAULT_OUTPUT}); the metrics JSON, "
                            "figures and model card go beside it")

    evaluate = command("evaluate", "test a saved model again", "Score a saved model on its "
                       "saved test split (when the data folder is the one it was trained "
                       "from), else on every image of the folder.", [saved, data])
    evaluate.add_argument("--json", metavar="FILE", help="also write the scores as JSON")
    evaluate.add_argument("--keep-near-copies", action="store_true", help="on another folder, "
                          "also score the near-copies of the training images")

    predict = command("predict", "label images with a saved model", "Print each image's "
                      "predicted label and tumor probability, one line per image or slice "
                      "and one per NIfTI volume or DICOM series.", [saved])
    predict.add_argument("images", metavar="IMAGE", nargs="+", help="image files, DICOM "
                         "files, NIfTI volumes (.nii, .nii.gz), or folders of them (DICOM "
                         "files read as series)")
    predict.add_argument("--csv", action="store_true", help="print CSV")
    predict.add_argument("--output", metavar="FILE",
                         help="also write the rows as CSV to FILE, as they come")
    predict.add_argument("--aggregate", choices=("max", "mean"), default="max",
                         help="a volume's or series' tumor probability from its slices' "
                              "(default: max)")
    predict.add_argument("--plane", choices=("axial", "coronal", "sagittal"), default="axial",
                         help="the plane NIfTI volumes are cut in (default: axial)")

    explain = command("explain", "Grad-CAM figures of a saved model's evidence", "Write one "
                      "PNG per image: the image with the Grad-CAM map of the predicted class "
                      "(or --target), the predicted label and its probability.", [saved])
    explain.add_argument("images", metavar="IMAGE", nargs="+",
                         help="image files, or folders of images")
    explain.add_argument("--output", "-o", required=True, metavar="DIR",
                         help="folder for the figures (created if needed)")
    explain.add_argument("--target", metavar="LABEL", help="explain this class (e.g. tumor, "
                         "'no tumor', 1) instead of the predicted one")

    export = command("export", "write a saved model's network as ONNX", "Export the network "
                     "(with a softmax) as ONNX at the trained image size and check it against "
                     "the model in ONNX Runtime.", [saved])
    export.add_argument("--onnx", required=True, metavar="FILE", help="the .onnx file to write")

    compare = command("compare", "compare models on the same splits", "Train each model on "
                      "the same duplicate-aware splits (one per repeat) and write the table "
                      "of mean ± sd scores as CSV, Markdown, JSON and a bar chart.",
                      [data, training])
    compare.add_argument("--models", required=True, metavar="NAMES",
                         help="comma-separated names, e.g. simple,two-conv,wide,deep,pyramid")
    compare.add_argument("--repeats", type=_positive_int, default=5, metavar="N",
                         help="number of random splits (default: 5)")
    compare.add_argument("--output", "-o", default=".", metavar="DIR",
                         help="folder for comparison.csv/.md/.json/.png (default: .)")

    search = command("search", "random search of a model's hyperparameters", "Random search "
                     "over the model's shipped search space (parameters fixed with --set are "
                     "left out), scored by F1, recall and ROC AUC with duplicate-aware grouped "
                     "folds; writes the ranked table and a plot.", [data, training])
    search.add_argument("--model", required=True, help="model name (see: skbrain models)")
    search.add_argument("--n-iter", type=_positive_int, default=20, metavar="N",
                        help="number of candidates (default: 20)")
    search.add_argument("--cv", type=_positive_int, default=3, metavar="K",
                        help="grouped folds per candidate (default: 3)")
    search.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler, e.g. "
                        "tcp://host:8786: candidates run on its workers")
    search.add_argument("--output", "-o", default=".", metavar="DIR",
                        help="folder for search.csv/.md/.png (default: .)")
    return parser


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
    try:
        parser = build_parser()
        if not argv:
            parser.print_help()
            return 2
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help and --version
            return exc.code if isinstance(exc.code, int) else 0
        return globals()[f"_cmd_{args.command}"](args)
    except KeyboardInterrupt:
        print("skbrain: interrupted", file=sys.stderr)
        return 130
    except (CLIError, ModelFileError, ValueError, FileNotFoundError,
            OSError, ImportError, RuntimeError, MemoryError) as exc:
        if "--traceback" in argv:
            raise
        bad_request = isinstance(exc, (CLIError, ValueError, FileNotFoundError))
        text = (str(exc).strip() or type(exc).__name__).splitlines()[0]
        print(f"skbrain: error: {'' if bad_request else type(exc).__name__ + ': '}{text}",
              file=sys.stderr)
        return 2 if bad_request else 1
    finally:
        sys.stdout.flush()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
