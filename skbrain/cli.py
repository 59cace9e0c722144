"""The ``skbrain`` command (``skbrain --help``): calls and printing only.

The steps are library functions a notebook can call too:
:func:`skbrain.datasets.load_images`, :func:`skbrain.training.train_and_save`,
:func:`skbrain.training.search_model`, :func:`skbrain.evaluation.evaluate_saved_model`,
:func:`skbrain.evaluation.compare_models`, :func:`skbrain.inference.predict_images`,
:func:`skbrain.explain.save_gradcam_overlays` and :func:`skbrain.export.to_onnx`.
Errors in what was asked for end with exit status 2 and one line on standard
error, before any training; ``--traceback`` shows the traceback instead.
The options and their parser are in :mod:`skbrain._cli_options`.
"""

import contextlib
import csv
import functools
import os
import sys
import time
from pathlib import Path

import numpy as np

from . import registry
from ._cli_options import CLIError, build_parser
from .datasets._folder import BINARY_CLASS_NAMES, class_name
from .training import parse_set_options

__all__ = ["main", "build_parser", "parse_set_options"]

DEFAULT_IMAGE_SIZE = 150
SCORE_COLUMNS = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc")
# Library errors about one argument start with its name; these are the command's options.
_OPTIONS = {"data", "negative", "test_data", "split_file", "test_size", "cv", "search",
            "min_recall", "output", "json", "replay"}
_print = functools.partial(print, flush=True)


# -------------------------------------------------------------------- helpers
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


def _print_scores(name, scores, names):
    from .evaluation import scores_table

    print(scores_table(name, scores, SCORE_COLUMNS, class_names=names))


def _estimators(args, names, verbose):
    """The ``--set`` parameters and the named estimators, checked before any data is read."""
    from ._base import resolve_device
    from .training import build_estimator

    sets = parse_set_options(args.set)
    _ask(resolve_device, "--device", sets.get("device", args.device))
    defaults = {"random_state": args.seed, "device": args.device, "verbose": verbose}
    return sets, {n: _ask(build_estimator, "--set", n, sets, **defaults) for n in names}


def _load_data(data_arg, *, fallback=None, negative=None, option="--data"):
    """Images of ``--data``, else ``SKBRAIN_DATA``, else ``fallback``, else the download."""
    from .datasets import fetch_brain_mri, load_images

    if data_arg:
        source, folder = option, data_arg
    elif os.environ.get("SKBRAIN_DATA"):
        source, folder = "SKBRAIN_DATA", os.environ["SKBRAIN_DATA"]
    elif fallback is not None and Path(fallback).is_dir():
        source, folder = "the model's data folder", fallback
    elif negative:
        raise CLIError("--negative needs --data: the downloaded images have two classes")
    else:  # the download's class folders' parent
        folder = Path(os.path.abspath(fetch_brain_mri().data[0])).parents[1]
        source = "the data folder"
    return _ask(load_images, source, folder, negative=negative)


def _load(args):
    from .persistence import load_model

    if getattr(args, "pretrained", None):
        from .weights import load_pretrained

        return _ask(load_pretrained, "--model", args.pretrained, return_info=True)
    return load_model(args.model, return_info=True, allow_pickle=args.allow_pickle)


def _image_size(args, resizer=None):
    """--image-size, else the --init-from model's, else 150."""
    if args.image_size is not None:
        return args.image_size
    return resizer.size if resizer is not None else DEFAULT_IMAGE_SIZE


# ------------------------------------------------------------------- commands
def _cmd_models(args):
    rows = [("name", "estimator", "parameters", "description")]
    for name in registry.list_models():
        if name == registry.TIMM_PREFIX + "<name>":
            rows.append((name, "TimmClassifier", "-", "any model of timm.list_models()"))
            continue
        try:
            count = f"{registry.model_parameter_count(name):,}"
        except Exception as exc:  # a third-party builder failing must not hide the list
            count = f"? ({type(exc).__name__})"
        spec = registry.MODELS[name]
        rows.append((name, spec.estimator_name, count, spec.description))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    rows.insert(1, tuple("-" * w for w in widths))
    for a, b, c, d in rows:
        print(f"{a.ljust(widths[0])}  {b.ljust(widths[1])}  {c.rjust(widths[2])}  {d}".rstrip())
    return 0


def _cmd_pretrained(args):
    from ._shipped import read_manifest

    models = read_manifest()["models"]
    if not models:
        print("the installed skbrain-weights lists no detector yet")
        return 0
    width = max(len(e["name"]) for e in models)
    for e in sorted(models, key=lambda e: not e["default"]):
        mark = " (default)" if e["default"] else ""
        print(f"{e['name'].ljust(width)}  {e['description']}{mark}")
    return 0


def _fine_tune(args):
    """Name, --set parameters, estimator and resizer of ``train --init-from``."""
    from ._base import resolve_device
    from .weights import fine_tune_parts

    verbose = 0 if args.quiet else 1
    resizer, estimator = _ask(fine_tune_parts, "--init-from", args.init_from)
    if args.model is not None:
        name = _ask(registry.normalize_model_name, "--model", args.model)
        sets, estimators = _estimators(args, [name], verbose)
        estimator = estimators[name].set_params(init_from=args.init_from)
    else:
        sets = parse_set_options(args.set)
        _ask(resolve_device, "--device", sets.get("device", args.device))
        _ask(estimator.set_params, "--set", **{"random_state": args.seed, "verbose": verbose,
                                               "device": args.device, **sets})
        name = Path(args.init_from).stem if os.path.exists(args.init_from) else args.init_from
    if resizer is not None and args.image_size not in (None, resizer.size):
        raise CLIError(f"--image-size: the model of --init-from sees {resizer.size} px images; "
                       "leave --image-size out to fine-tune at that size")
    return name, sets, estimator, resizer


def _load_replay(folders, data, negative, quiet, estimator, search):
    """--replay's folders as one (image paths, labels) pair, paired with --data's classes."""
    from .weights import _check_replay, load_replay

    _ask(_check_replay, None, estimator, data.multiclass, search)
    images, labels, names = _ask(load_replay, "--replay", *folders, negative=negative)
    for folder, pair in zip(folders, names, strict=True) if not quiet else ():
        _print(f"replay: {folder} ("
               + ", ".join(f"{a} as {b}" for a, b in zip(pair, data.target_names, strict=True))
               + ")")
    return images, labels


def _vote(args, estimator):
    """--n-models' soft vote of fine-tunes, as ``adapt_pretrained`` builds it."""
    from .weights import _seed_vote

    if args.init_from is None:
        raise CLIError("--n-models: averages fine-tunes of a shipped detector or model file; "
                       "give --init-from NAME")
    for option, given in (("--search", args.search is not None),
                          ("--accelerate", args.accelerate)):
        if given:
            raise CLIError(f"--n-models: not with {option}, which trains one network")
    return _seed_vote(estimator, args.n_models)


def _accelerator(device):
    """The ``accelerate.Accelerator`` of this process (``accelerate launch`` configures it)."""
    try:
        from accelerate import Accelerator
    except ImportError:
        raise CLIError("--accelerate needs Hugging Face accelerate: pip install "
                       "'skbrain[accelerate]'") from None
    return Accelerator(cpu=device == "cpu")


def _cmd_train(args):
    from ._unwrap import unwrap
    from .thresholds import describe_threshold
    from .training import check_binary_options, check_train_arguments, train_and_save

    resizer = None
    if args.init_from:
        name, sets, estimator, resizer = _fine_tune(args)
        estimators = {name: estimator}
    elif args.model is None:
        raise CLIError("--model is required (or --init-from NAME to fine-tune a shipped "
                       "detector; see 'skbrain pretrained')")
    else:
        name = _ask(registry.normalize_model_name, "--model", args.model)
        sets, estimators = _estimators(args, [name], 0 if args.quiet else 1)
    if args.n_models > 1:
        estimators[name] = _vote(args, estimators[name])
    _ask(check_train_arguments, None, args.output, cv=args.cv, search=args.search,
         min_recall=args.min_recall, test_data=args.test_data, split_file=args.split_file)
    quiet = args.quiet
    if args.accelerate:
        accelerator = _accelerator(args.device)
        unwrap(estimators[name], fitted=False).estimator.set_params(accelerator=accelerator)
        quiet = quiet or not accelerator.is_main_process
    data = _load_data(args.data, negative=args.negative)
    test_data = args.test_data and _load_data(args.test_data, negative=args.negative,
                                              option="--test-data")
    replay = args.replay and _load_replay(args.replay, data, args.negative, quiet,
                                          estimators[name], args.search)
    try:  # a two-class option asked of more classes stops here, before any training
        check_binary_options(data.target, data.target_names, **{"--min-recall": args.min_recall})
    except ValueError as exc:
        raise CLIError(f"{exc}; join the classes with --negative NAME (e.g. --negative "
                       "notumor)") from None
    result = _ask(train_and_save, None, name, data, args.output, estimator=estimators[name],
                  params=sets, test_data=test_data or None, split_file=args.split_file,
                  test_size=args.test_size, image_size=_image_size(args, resizer),
                  resizer=resizer, search=args.search,
                  cv=args.cv, min_recall=args.min_recall, random_state=args.seed,
                  keep_near_copies=args.keep_near_copies, replay=replay or None,
                  verbose=0 if quiet else 1,
                  log=_print if not quiet or not args.accelerate else (lambda *_: None))
    if not result.files:  # a process of an accelerate launch other than the main one
        return 0
    print(f"\ntest scores of {name} on {result.test_description}:")
    _print_scores(name, result.scores, data.class_names)
    if result.threshold is not None:
        print(describe_threshold(result.threshold))
    *written, last = map(str, result.files.values())
    print(f"\nwrote {', '.join(written)} and {last} "
          f"({result.report['timings']['total_seconds']:.1f} s in all)")
    return 0


def _cmd_evaluate(args):
    from ._fileio import write_json
    from .evaluation import evaluate_saved_model
    from .training import check_output

    model, info = _load(args)
    meta = info.get("metadata") or {}
    saved = meta.get("data") or {}
    data = _load_data(args.data, fallback=saved.get("path"),
                      negative=args.negative or saved.get("negative"))
    if args.json:
        _ask(check_output, None, args.json, data.root, name="json")
    result = _ask(evaluate_saved_model, None, model, data, meta,
                  keep_near_copies=args.keep_near_copies)
    print(f"test scores of {result.name} on {result.where}:")
    if result.n_near_copies is not None:
        what = "kept (--keep-near-copies)" if args.keep_near_copies else "left out"
        print(f"near-copies of the training images: {result.n_near_copies}; {what}")
    _print_scores(result.name, result.scores, result.class_names)
    if args.json:
        write_json(args.json, {"command": "evaluate", "model_file": str(args.model),
                               **result.report})
    return 0


def _cmd_predict(args):
    from .datasets import expand_scans
    from .inference import predict_images

    files = ([args.model] if args.pretrained else []) + args.images
    if not files:
        raise CLIError("IMAGE: give at least one image, scan or folder after the model")
    model, info = _load(args)
    names = (info.get("metadata") or {}).get("class_names")
    images, scans = _ask(expand_scans, "IMAGE", files, plane=args.plane)
    header = ("file", "label", "p_tumor" if len(model.classes_) <= 2 else "p_label", "kind",
              "n_slices", "scan", "counted")
    width = max(len(str(p)) for p in images + [s for s in scans if s is not None])
    with (open(args.output, "w", newline="") if args.output else contextlib.nullcontext()) as f:
        writers = [csv.writer(out, lineterminator="\n") for out in
                   ([sys.stdout] if args.csv else []) + ([f] if f else [])]
        for w in writers:
            w.writerow(header)
        if not args.csv:
            print(f"{header[0].ljust(width)}  {header[1].ljust(8)}  {header[2]}")
        for row in predict_images(model, images, scans=scans, aggregate=args.aggregate,
                                  min_head_fraction=args.min_head,
                                  progress=sys.stderr.isatty()):
            label = class_name(row.label, names)
            counted = "" if row.scan is None else int(row.counted)
            for w in writers:
                w.writerow((row.name, label, f"{row.p_tumor:.4f}", row.kind, row.n_slices,
                            row.scan or "", counted))
            if not args.csv:
                note = ""
                if row.kind == "scan":
                    note = f"  scan: {args.aggregate} of {row.n_slices} slices"
                    if row.n_left_out:
                        note += (f" ({row.n_left_out} showing under {args.min_head:.0%} head "
                                 "left out)")
                elif not row.counted:
                    note = f"  (under {args.min_head:.0%} head: not counted)"
                print(f"{row.name.ljust(width)}  {label.ljust(8)}  {row.p_tumor:>7.4f}{note}")
            # Flushed row by row, so that whoever follows the file sees each result as it comes.
            for out in (sys.stdout, f):
                if out is not None:
                    out.flush()
    return 0


def _cmd_explain(args):
    from ._unwrap import unwrap
    from .datasets import expand_scans
    from .explain import save_gradcam_overlays

    if args.output is None and args.masks is None:
        raise CLIError("give --output DIR for the figures, --masks DIR for the scores, or both")
    masks_dir = None if args.masks is None else Path(args.masks)
    if masks_dir is not None and not masks_dir.is_dir():
        raise CLIError(f"--masks: '{masks_dir}' is not a folder")
    output = None if args.output is None else Path(args.output)
    if output is not None and output.exists() and not output.is_dir():
        raise CLIError(f"--output: '{output}' is a file, not a folder")
    model, _ = _load(args)
    paths, _ = _ask(expand_scans, "IMAGE", args.images)
    target = None
    if args.target is not None:  # a label of the model, or its display name
        classes = np.asarray(unwrap(model, caller="explain").estimator.classes_).tolist()
        target = next((c for c in classes if args.target in (str(c), class_name(c))), None)
        if target is None:
            raise CLIError(f"--target: {args.target!r} is not one of the model's classes "
                           f"({', '.join(class_name(c) for c in classes)})")
    if masks_dir is not None:
        _print_localization(model, paths, masks_dir, target, args.method)
    if output is None:
        return 0
    written = save_gradcam_overlays(model, paths, output, target=target,
                                    class_names=BINARY_CLASS_NAMES, method=args.method)
    width = max(len(row["image"]) for row in written)
    for row in written:
        print(f"{row['image'].ljust(width)}  {class_name(row['label']).ljust(8)}  "
              f"p={row['probability']:.4f}  -> {row['figure']}")
    print(f"wrote {len(written)} explanation figure(s) ({written[0]['method']}) to {output}")
    return 0


def _print_localization(model, paths, masks_dir, target, method):
    from .explain import localization_scores

    # Masks are matched by file name; images without one (no tumor) are left out.
    pairs = [(p, masks_dir / Path(p).name) for p in paths]
    pairs = [(p, m) for p, m in pairs if m.is_file()]
    if not pairs:
        raise CLIError(f"--masks: no file in '{masks_dir}' has the name of an image given")
    scores = _ask(localization_scores, "--masks", model, [p for p, _ in pairs],
                  [str(m) for _, m in pairs], method=method, target=target)
    print(f"localisation ({scores['method']}) on {scores['n']} image(s) with a mask "
          f"({len(paths) - len(pairs)} without one left out):")
    print(f"  pointing game  {scores['pointing_game']:.3f}  (peak within "
          f"{scores['tolerance']:g} px of the mask)")
    print(f"  mass ratio     {scores['mass_ratio']:.2f}  (share of the map inside the mask / "
          "the mask's share of the image)")
    print(f"  mass inside    {scores['mass_inside']:.3f}")
    print(f"  empty maps     {scores['empty_share']:.3f}")


def _cmd_report(args):
    from .report import build_report

    data = Path(args.data)
    if not data.is_dir():
        raise CLIError(f"--data: '{data}' is not a folder")
    output = Path(args.output)
    if output.is_dir():
        raise CLIError(f"--output: '{output}' is a folder; give a file name such as report.html")
    model, _ = _load(args)
    result = _ask(build_report, "--data", model, data, output, method=args.method)
    print(f"wrote {result['path']}: {result['n_images']} images, {result['n_groups']} groups, "
          f"{result['n_empty_maps']} empty map(s), in {result['seconds']:.0f} s")
    return 0


def _cmd_export(args):
    from ._unwrap import unwrap
    from .export import check_onnx, to_onnx

    model, _ = _load(args)
    output = Path(args.onnx)
    if output.is_dir():
        raise CLIError(f"--onnx: '{output}' is a folder; give a file name such as "
                       f"'{output / 'model.onnx'}'")
    found = unwrap(model, caller="export")
    shape = tuple(int(v) for v in found.estimator.image_shape_)
    to_onnx(model, output, image_size=shape[1:])
    difference = check_onnx(output, model)
    print(f"wrote {output}: {type(found.estimator).__name__}, input float32 (batch, "
          f"{shape[0]}, {shape[1]}, {shape[2]}) in [0, 1], outputs probabilities and logits")
    print(f"parity: max |onnxruntime - predict_proba| = {difference:.2e} on 8 random images")
    if found.threshold is not None:
        print(f"note: the model decides tumor from probability {found.threshold:.4g} "
              f"({found.threshold_source}); the ONNX graph gives probabilities only")
    return 0 if difference < 1e-4 else 1


def _prepare(args, names):
    """Estimators, output folder and resized images of compare and search, checked first."""
    from .datasets import describe_images
    from .training import check_output, resize_images

    sets, estimators = _estimators(args, names, 0)
    output = Path(args.output)
    if output.exists() and not output.is_dir():
        raise CLIError(f"--output: '{output}' is a file, not a folder")
    data = _load_data(args.data, negative=args.negative)
    _ask(check_output, None, output / "results.csv", data.root)
    say = _print if not args.quiet else (lambda *a: None)
    say(f"data: {describe_images(data)} in {data.root}")
    X = resize_images(data.data, _image_size(args), log=say)[1]
    return sets, estimators, output, data, X, say


def _cmd_compare(args):
    from .evaluation import compare_models
    from .plotting import plot_comparison

    started = time.perf_counter()
    names = [_ask(registry.normalize_model_name, "--models", n)
             for n in args.models.split(",") if n.strip()]
    if not names:
        raise CLIError("--models needs at least one model name")
    if len(set(names)) != len(names):
        raise CLIError(f"--models names a model twice: {args.models}")
    _, estimators, output, data, X, say = _prepare(args, names)
    say(f"comparing {', '.join(names)} on {args.repeats} duplicate-aware split(s) "
        f"(test size {args.test_size})...")
    try:
        table = compare_models(estimators, X, data.target, data.groups,
                               n_repeats=args.repeats, test_size=args.test_size,
                               random_state=args.seed, verbose=0 if args.quiet else 1)
    except ValueError as exc:
        if "test_size" in str(exc) or "cannot split" in str(exc):
            raise CLIError(f"--test-size: {exc}") from None
        raise
    print(f"\n{table}")
    metrics = [m for m in table.metrics if not m.endswith("_seconds")]
    *written, last = table.save(output, "comparison", figure=plot_comparison(table, metrics))
    print(f"\nwrote {', '.join(written)} and {last} to {output} "
          f"({time.perf_counter() - started:.1f} s in all)")
    return 0


def _cmd_search(args):
    from .plotting import plot_search
    from .training import search_model

    started = time.perf_counter()
    name = _ask(registry.normalize_model_name, "--model", args.model)
    sets, estimators, output, data, X, _ = _prepare(args, [name])
    result = search_model(estimators[name], X, data.target, data.groups, fixed=sets,
                          n_iter=args.n_iter, cv=args.cv, scheduler=args.scheduler,
                          random_state=args.seed, verbose=0 if args.quiet else 1,
                          log=_print, name=name)
    search = result.search
    print(f"\n{result.report}\n\nbest parameters (CV {result.score_name} "
          f"{search.best_score_:.3f}): {search.best_params_}")
    *written, last = result.report.save(output, "search", formats=("csv", "md"),
                                        figure=plot_search(search))
    print(f"wrote {', '.join(written)} and {last} to {output} "
          f"({time.perf_counter() - started:.1f} s in all)")
    return 0


# ---------------------------------------------------------------- entry point
def main(argv=None):
    """Run ``skbrain`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    0 on success, 2 for a bad request (one line on stderr), 1 for a failure
    while running, 130 when interrupted.

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
    except (CLIError, ValueError, OSError, ImportError, RuntimeError, MemoryError) as exc:
        if "--traceback" in argv:
            raise
        # A bad request (ModelFileError is a ValueError) is exit status 2; a failure, 1.
        request = isinstance(exc, (CLIError, ValueError, FileNotFoundError))
        text = (str(exc).strip() or type(exc).__name__).splitlines()[0]
        print(f"skbrain: error: {'' if request else type(exc).__name__ + ': '}{text}",
              file=sys.stderr)
        return 2 if request else 1
    finally:
        sys.stdout.flush()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
