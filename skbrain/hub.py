"""Models on the Hugging Face Hub: push a fitted model, load ``hf://owner/name``.

A Hub model repository holds the folder layout of
:func:`skbrain.persistence.save_model` (``folder=True``): ``config.json``,
``model.safetensors`` and ``README.md``, the model card under the Hub's YAML
header (:func:`hub_readme`). :func:`push_to_hub` uploads one in one commit;
:func:`skbrain.persistence.load_model` loads ``"hf://owner/name"``
(optionally ``@revision``) through the Hub cache. Both need
``pip install 'skbrain[hub]'``.
"""

import json
import re
import tempfile
from pathlib import Path

from ._modelfile import CONFIG_NAME, README_NAME, WEIGHTS_NAME, estimator_node
from .exceptions import ModelFileError

__all__ = ["HUB_PREFIX", "hub_readme", "push_to_hub"]

#: The prefix of a Hub model address, ``hf://owner/name[@revision]``.
HUB_PREFIX = "hf://"
_HUB_FILES = [CONFIG_NAME, WEIGHTS_NAME, README_NAME]


def _import_hub():
    try:
        import huggingface_hub
    except ImportError:
        raise ImportError("the Hugging Face Hub needs huggingface_hub: "
                          "pip install 'skbrain[hub]'") from None
    return huggingface_hub


def _hub_folder(address):
    """Download (or find in the Hub cache) ``hf://owner/name[@revision]``; return its folder."""
    repo_id, _, revision = address[len(HUB_PREFIX):].partition("@")
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ValueError(f"a Hub model address is 'hf://owner/name' or "
                         f"'hf://owner/name@revision'; got {address!r}")
    hub = _import_hub()
    try:
        folder = None
        if re.fullmatch(r"[0-9a-f]{40}", revision):
            # A commit never changes: its cached snapshot is used without asking the server
            # (huggingface_hub 1.x lists the commit's files first, which fails offline).
            try:
                folder = hub.snapshot_download(repo_id, revision=revision,
                                               allow_patterns=_HUB_FILES, local_files_only=True)
            except Exception:  # not cached: download below
                folder = None
        if folder is None:
            folder = hub.snapshot_download(repo_id, revision=revision or None,
                                           allow_patterns=_HUB_FILES)
    except Exception as exc:  # network, offline-and-not-cached, unknown repository
        raise ModelFileError(f"{address}: could not get the model from the Hugging Face Hub "
                             f"({type(exc).__name__}: {exc})") from None
    return Path(folder)


def hub_readme(config, model_card=None):
    """The README of a Hub model repository: the Hub's YAML header, then the model card.

    Parameters
    ----------
    config : dict
        A model's ``config.json`` contents (its ``metadata`` gives the
        license, datasets and metrics when it has them).
    model_card : str or path-like, default=None
        Markdown text, or the path of a Markdown file; a short description is
        written when None.

    Returns
    -------
    str
    """
    metadata = config.get("metadata") or {}
    tree = config.get("model") or {}
    node, _ = estimator_node(tree)
    estimator = str(node.get("class", "")).rsplit(".", 1)[-1] if node is not None else None
    metrics = metadata.get("metrics") if isinstance(metadata.get("metrics"), dict) else {}
    datasets = metadata.get("datasets") or ["brain-mri"]
    header = {
        "license": metadata.get("license", "bsd-3-clause"),
        "library_name": "skbrain",
        "tags": ["skbrain", "image-classification", "brain-mri", "medical-imaging", "pytorch",
                 "safetensors"] + ([estimator] if estimator else []),
        "datasets": list(datasets) if isinstance(datasets, (list, tuple)) else [str(datasets)],
        "metrics": sorted(str(k) for k in metrics),
        "pipeline_tag": "image-classification",
    }
    lines = ["---"]
    for key, value in header.items():
        if isinstance(value, list):
            lines.append(f"{key}:" + ("" if value else " []"))
            lines += [f"- {json.dumps(item)}" for item in value]
        else:
            lines.append(f"{key}: {json.dumps(value)}")
    lines.append("---")
    if model_card is None:
        body = (f"# {estimator or 'skbrain model'}\n\nA brain MRI image classifier saved by "
                f"skbrain {config.get('versions', {}).get('skbrain', '')} in its pickle-free "
                "model format (`config.json` + `model.safetensors`).\n\n```python\n"
                "from skbrain import load_model\nmodel = load_model(\"hf://OWNER/NAME\")\n```\n")
        if metrics:
            body += "\n## Test scores\n\n" + "\n".join(
                f"- {k}: {v:.4g}" if isinstance(v, float) else f"- {k}: {v}"
                for k, v in sorted(metrics.items())) + "\n"
    else:
        text = str(model_card)
        body = (Path(text).read_text(encoding="utf-8")
                if "\n" not in text and Path(text).is_file() else text)
        if body.startswith("---\n"):  # the card's own header gives way to this one
            end = body.find("\n---", 4)
            body = body[end + 4:].lstrip("\n") if end != -1 else body
    return "\n".join(lines) + "\n\n" + body


def push_to_hub(model, repo_id, *, metadata=None, model_card=None, private=None, token=None,
                commit_message="Upload skbrain model", api=None):
    """Upload a fitted model to a Hugging Face Hub model repository.

    Writes the folder layout of :func:`save_model` (``config.json``,
    ``model.safetensors`` and ``README.md``, the model card under the Hub's
    metadata header) and uploads it in one commit. Load it back with
    ``load_model("hf://" + repo_id)``. Needs ``pip install 'skbrain[hub]'``.

    Parameters
    ----------
    model : fitted estimator or Pipeline
    repo_id : str
        ``"owner/name"``; the repository is created if it does not exist.
    metadata : dict, default=None
        As in :func:`save_model`; ``license`` and ``datasets`` keys fill the
        README header.
    model_card : str or path-like, default=None
        Markdown text or file for the README (see :func:`hub_readme`).
    private : bool, default=None
        Visibility of a repository created here.
    token : str, default=None
        Hub token; by default the one ``huggingface-cli login`` stored.
    commit_message : str
    api : huggingface_hub.HfApi, default=None
        The client to use (one is created otherwise).

    Returns
    -------
    huggingface_hub.CommitInfo
    """
    from .persistence import save_model

    if not isinstance(repo_id, str) or repo_id.count("/") != 1:
        raise ValueError(f"repo_id must be 'owner/name'; got {repo_id!r}")
    hub = _import_hub()
    api = api if api is not None else hub.HfApi(token=token)
    with tempfile.TemporaryDirectory(prefix="skbrain-hub-") as tmp:
        folder = save_model(model, Path(tmp) / "model", metadata=metadata, folder=True,
                            model_card=model_card)
        readme = folder / README_NAME
        readme.write_text(readme.read_text(encoding="utf-8").replace(
            f"{HUB_PREFIX}OWNER/NAME", f"{HUB_PREFIX}{repo_id}"), encoding="utf-8")
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        return api.upload_folder(repo_id=repo_id, repo_type="model", folder_path=str(folder),
                                 commit_message=commit_message)
