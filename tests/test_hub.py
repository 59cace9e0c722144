"""The Hugging Face Hub: load ``hf://owner/name`` from the Hub cache offline, upload with HfApi."""

import os
import socket
from unittest import mock

import numpy as np
import pytest

from skbrain import SimpleCNNClassifier
from skbrain.datasets import make_synthetic_mri
from skbrain.exceptions import ModelFileError
from skbrain.persistence import load_model, push_to_hub, save_model

hub = pytest.importorskip("huggingface_hub")

REVISION = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def fitted():
    data = make_synthetic_mri(16, image_size=24, random_state=0)
    clf = SimpleCNNClassifier(n_kernels=2, max_epochs=1, random_state=0, device="cpu")
    return clf.fit(data.data, data.target), data.data


@pytest.fixture
def offline_cache(tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from huggingface_hub import constants

    # The constants are read from the environment once, at import.
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)

    def no_network(*args, **kwargs):
        raise AssertionError("the test tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    return cache


def test_a_model_in_the_hub_cache_loads_offline(fitted, offline_cache):
    clf, X = fitted
    # The Hub cache layout: models--owner--name/snapshots/<commit>/ and refs/main.
    repo = offline_cache / "models--lab--brain-cnn"
    save_model(clf, repo / "snapshots" / REVISION, folder=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(REVISION)
    model = load_model("hf://lab/brain-cnn")
    np.testing.assert_array_equal(model.predict_proba(X), clf.predict_proba(X))
    _, info = load_model(f"hf://lab/brain-cnn@{REVISION}", return_info=True)
    assert info["path"].endswith(os.path.join("snapshots", REVISION))
    with pytest.raises(ModelFileError, match="hf://lab/missing: could not get the model"):
        load_model("hf://lab/missing")
    with pytest.raises(ValueError, match="'hf://owner/name'"):
        load_model("hf://just-a-name")


def test_push_to_hub_uploads_the_folder_in_one_commit(fitted, tmp_path):
    clf, _ = fitted
    api = mock.Mock()
    uploaded = {}

    def upload_folder(**kwargs):
        folder = kwargs["folder_path"]
        uploaded.update({name: open(os.path.join(folder, name), "rb").read()
                         for name in os.listdir(folder)})
        return "commit-info"

    api.upload_folder.side_effect = upload_folder
    card = tmp_path / "card.md"
    card.write_text("---\nold: header\n---\n# Model card: SimpleCNNClassifier\n\nScores.\n")
    result = push_to_hub(clf, "lab/brain-cnn", api=api, private=True, model_card=card,
                         metadata={"metrics": {"f1": 0.8, "recall": 0.9},
                                   "datasets": ["navoneel/brain-mri-images"]})
    assert result == "commit-info"
    api.create_repo.assert_called_once_with("lab/brain-cnn", repo_type="model", private=True,
                                            exist_ok=True)
    assert api.upload_folder.call_args.kwargs["repo_id"] == "lab/brain-cnn"
    assert api.upload_folder.call_args.kwargs["repo_type"] == "model"
    assert sorted(uploaded) == ["README.md", "config.json", "model.safetensors"]
    readme = uploaded["README.md"].decode()
    header, body = readme.split("\n---\n\n", 1)
    assert header.splitlines()[:3] == ["---", 'license: "bsd-3-clause"',
                                       'library_name: "skbrain"']
    assert '- "navoneel/brain-mri-images"' in header and '- "recall"' in header
    assert "- \"skbrain\"" in header and "old: header" not in readme
    assert body.startswith("# Model card: SimpleCNNClassifier")
    folder = tmp_path / "copy"
    folder.mkdir()
    for name, data in uploaded.items():
        (folder / name).write_bytes(data)
    assert type(load_model(folder)) is SimpleCNNClassifier
    push_to_hub(clf, "lab/brain-cnn", api=api)
    assert 'load_model("hf://lab/brain-cnn")' in uploaded["README.md"].decode()
    with pytest.raises(ValueError, match="repo_id must be 'owner/name'"):
        push_to_hub(clf, "no-owner", api=api)
