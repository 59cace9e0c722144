"""The ``skbrain`` command's options: one argument parser for every sub-command.

What each command does is in :mod:`skbrain.cli`; here are only the options,
their help and how their values are checked as they are parsed.
"""

import argparse
import contextlib

from ._version import __version__
from .inference import MIN_HEAD_FRACTION

DEFAULT_OUTPUT = "skbrain-model.skbrain"


class CLIError(Exception):
    """A problem with what was asked for; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise CLIError(f"{message} (see '{self.prog} --help')")


class _IntermixedParser(_Parser):
    """Positionals may follow options (``predict MODEL --csv A B``), one list of them."""

    _parsing = False

    def parse_known_args(self, args=None, namespace=None):
        if self._parsing:
            return super().parse_known_args(args, namespace)
        self._parsing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._parsing = False


def _typed(parse, expected):
    """An argparse type: ``parse`` gives the value, or None when it is out of range."""
    def convert(text):
        with contextlib.suppress(ValueError):
            if (value := parse(text)) is not None:
                return value
        raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}")
    return convert


def _count_or_share(text):
    value = float(text)
    return int(value) if value.is_integer() and value >= 1 else value if 0 < value < 1 else None


_positive_int = _typed(lambda t: int(t) if int(t) >= 1 else None, "a positive integer")
_test_size = _typed(_count_or_share, "a share in (0, 1) or a count")
_share = _typed(lambda t: float(t) if 0 < float(t) <= 1 else None, "a number in (0, 1]")
_fraction = _typed(lambda t: float(t) if 0 <= float(t) < 1 else None, "a number in [0, 1)")


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
        return commands.add_parser(name, help=help, description=description,
                                   parents=parents).add_argument

    data, training, saved = (_Parser(add_help=False) for _ in range(3))
    add = data.add_argument
    add("--data", metavar="DIR", help="folder with one subfolder per class, such as yes/ and "
        "no/, of pictures or DICOM files (default: $SKBRAIN_DATA, else the download)")
    add("--negative", metavar="CLASS", help="the class folder that means no tumor (e.g. "
        "notumor): every other class becomes tumor; without it the classes stay as they are")
    add = training.add_argument
    add("--image-size", type=_positive_int, default=None, metavar="PX",
        help="side of the square images the network sees (default: 150, or that of the "
        "--init-from model)")
    add("--test-size", type=_test_size, default=0.25, metavar="SHARE",
        help="test share (or count) of a duplicate-aware stratified split (default: 0.25)")
    add("--set", action="append", metavar="KEY=VALUE", help="an estimator parameter, e.g. "
        "--set max_epochs=10 --set lr=3e-4 (repeatable; values are Python literals)")
    add("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:1 ...")
    add("--seed", type=int, default=0, help="seeds the split and the estimator (default: 0)")
    add("--quiet", "-q", action="store_true", help="no progress output, only the results")
    saved.add_argument("model", metavar="MODEL", help="a .skbrain model file")
    saved.add_argument("--allow-pickle", action="store_true", help="also load a model file of "
                       "the old pickle format (skbrain 0.x); this runs any code the file "
                       "holds, so only for files you trust")

    command("models", "list the model names, with parameter counts",
            "List every model name that train and compare accept.")
    command("pretrained", "list the shipped detectors (skbrain[detector])", "List the "
            "detectors of the installed skbrain-weights distribution, which predict --model "
            "NAME, train --init-from NAME and skbrain.load_pretrained(NAME) take.")
    add = command("train", "train, test and save one model", "Split the images "
                  "(duplicate-aware, stratified), train a model, print its test scores and save "
                  "the fitted pipeline, a metrics JSON, a figure of test predictions and a model "
                  "card (Markdown).", [data, training])
    add("--model", help="a name from 'skbrain models' (e.g. wide, resnet18); with --init-from "
        "NAME, the shipped detector's architecture by default")
    add("--init-from", metavar="NAME", help="fine-tune: start from a shipped detector (see "
        "'skbrain pretrained') or a saved model file, with its image preparation")
    add("--replay", metavar="DIR", action="append", help="with --init-from: a folder of the "
        "images the detector was trained on (two classes, or more joined by --negative); as "
        "many of them as there are training images are mixed into the fine-tune so that it "
        "does not forget them, never scored (repeatable)")
    add("--n-models", type=_positive_int, default=1, metavar="N", help="with --init-from: "
        "average N fine-tunes of seeds --seed, +100, +200... (a soft vote saved in one model "
        "file; 3 ranked five labelled patients of a new site better than 1, at 3x the time; "
        "default: 1)")
    add("--split-file", metavar="FILE", help="JSON/CSV/text list of the test images (relative "
        "to the data folder); replaces --test-size. A metrics JSON works too")
    add("--search", type=_positive_int, metavar="N", help="tune first: a randomized search of N "
        "candidates over the model's default search space, grouped cross-validation")
    add("--cv", type=_positive_int, default=3, metavar="K",
        help="folds of the --search and --min-recall cross-validation (default: 3)")
    add("--min-recall", type=_share, metavar="R", help="recall-first decision: choose the "
        "highest tumor-probability threshold whose recall, in grouped cross-validation on the "
        "training images, is at least R (e.g. 0.95); the model then predicts tumor from that "
        "threshold up")
    add("--test-data", metavar="DIR", help="test on this other collection instead of a split: "
        "train on all of --data; near-copies of training images are left out")
    add("--keep-near-copies", action="store_true",
        help="with --test-data, score near-copies of training images too")
    add("--accelerate", action="store_true", help="train through Hugging Face accelerate: "
        "run as 'accelerate launch [--multi_gpu --num_processes N] -m skbrain train "
        "--accelerate ...' for data-parallel training over N GPUs (or machines); only the "
        "main process writes files (needs skbrain[accelerate])")
    add("--output", "-o", default=DEFAULT_OUTPUT, metavar="FILE", help=f"model file (default: "
        f"{DEFAULT_OUTPUT}); the metrics JSON, figure and model card go beside it")

    add = command("evaluate", "test a saved model again", "Score a saved model on its saved "
                  "test split (when the data folder is the one it was trained from), else on "
                  "every image of the folder.", [saved, data])
    add("--json", metavar="FILE", help="also write the scores as JSON")
    add("--keep-near-copies", action="store_true",
        help="on another folder, also score the near-copies of the training images")

    add = command("predict", "label images with a saved model", "Print each image's predicted "
                  "label and tumor probability, one line per image or slice and one per NIfTI "
                  "volume or DICOM series.", [saved])
    add.__self__.__class__ = _IntermixedParser  # IMAGE may be empty: MODEL is one with --model
    add("images", metavar="IMAGE", nargs="*", help="image files, DICOM files, NIfTI volumes "
        "(.nii, .nii.gz), or folders of them (DICOM files read as series)")
    add("--model", dest="pretrained", metavar="NAME", help="use this shipped detector (see "
        "'skbrain pretrained'), no training needed; then every positional argument is an image")
    add("--csv", action="store_true", help="print CSV")
    add("--output", metavar="FILE", help="also write the rows as CSV to FILE, as they come")
    add("--aggregate", choices=("max", "mean"), default="max",
        help="a volume's or series' tumor probability from its slices' (default: max)")
    add("--min-head", type=_fraction, default=MIN_HEAD_FRACTION, metavar="FRACTION",
        help="slices of a volume or series showing less head than this share of the picture "
             "(skull base, top of the head, empty slices) get their line but are left out of "
             "the scan's probability; 0 counts every slice (default: %(default)s; the training "
             "images of the shipped detectors show at least that much)")
    add("--plane", choices=("axial", "coronal", "sagittal"), default="axial",
        help="the plane NIfTI volumes are cut in (default: axial)")

    add = command("explain", "heat maps of a saved model's evidence", "Write one PNG per "
                  "image: the image with the heat map (HiResCAM by default) of the predicted "
                  "class (or --target), the predicted label and its probability; with --masks, "
                  "print how well the tumor maps point at the masks.", [saved])
    add("images", metavar="IMAGE", nargs="+", help="image files, or folders of images")
    add("--output", "-o", metavar="DIR",
        help="folder for the figures (created if needed)")
    add("--target", metavar="LABEL",
        help="explain this class (e.g. tumor, 'no tumor', 1) instead of the predicted one")
    add("--method", default="auto",
        choices=("auto", "hirescam", "gradcam", "occlusion", "integrated_gradients"),
        help="the explanation method (default: auto, integrated gradients for a pretrained "
        "backbone and HiResCAM for a hand-made net)")
    add("--masks", metavar="DIR", help="print localisation scores against the masks in DIR, "
        "matched to the images by file name (the tumor class's maps)")

    add = command("report", "an HTML page of a saved model's results on a folder", "Write "
                  "one self-contained HTML page: scores with bootstrap intervals, ROC and "
                  "precision-recall curves, confusion matrix, and a sortable table of every "
                  "image with its explanation, the most confident mistakes first.", [saved])
    add("--data", required=True, metavar="DIR", help="a folder of class sub-folders (yes/ "
        "no/; DICOM series or NIfTI volumes too), or LGG-dev's folder (with MANIFEST.csv: "
        "patients and masks)")
    add("--output", "-o", default="report.html", metavar="FILE",
        help="the page to write (default: report.html)")
    add("--method", default="auto",
        choices=("auto", "hirescam", "occlusion", "integrated_gradients", "gradcam"),
        help="the explanation method (default: auto, integrated gradients for a pretrained "
        "backbone and HiResCAM for a hand-made net)")

    add = command("export", "write a saved model's network as ONNX", "Export the network (with "
                  "a softmax) as ONNX at the trained image size and check it against the model "
                  "in ONNX Runtime.", [saved])
    add("--onnx", required=True, metavar="FILE", help="the .onnx file to write")

    add = command("compare", "compare models on the same splits", "Train each model on the "
                  "same duplicate-aware splits (one per repeat) and write the table of mean ± "
                  "sd scores as CSV, Markdown, JSON and a bar chart.", [data, training])
    add("--models", required=True, metavar="NAMES",
        help="comma-separated names, e.g. simple,two-conv,wide,deep,pyramid")
    add("--repeats", type=_positive_int, default=5, metavar="N",
        help="number of random splits (default: 5)")
    add("--output", "-o", default=".", metavar="DIR", help="folder for comparison.* (default: .)")

    add = command("search", "random search of a model's hyperparameters", "Random search over "
                  "the model's shipped search space (parameters fixed with --set are left out), "
                  "scored by F1, recall and ROC AUC with duplicate-aware grouped folds; writes "
                  "the ranked table and a plot.", [data, training])
    add("--model", required=True, help="model name (see: skbrain models)")
    add("--n-iter", type=_positive_int, default=20, metavar="N", help="candidates (default: 20)")
    add("--cv", type=_positive_int, default=3, metavar="K", help="grouped folds (default: 3)")
    add("--scheduler", metavar="ADDRESS",
        help="a Dask scheduler, e.g. tcp://host:8786: candidates run on its workers")
    add("--output", "-o", default=".", metavar="DIR", help="folder for search.* (default: .)")
    return parser
