"""Data-parallel training through Hugging Face accelerate, two CPU processes (gloo)."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.base import clone

pytest.importorskip("accelerate")

from skbrain import CNNClassifier  # noqa: E402
from skbrain.datasets import make_synthetic_mri  # noqa: E402

# Equal to one process by construction: each step's batch of 16 is split in
# two halves (split_batches), the gradients of the halves are averaged, and
# nothing differs between processes (no batch norm, dropout or augmentation,
# data in order). The one-cycle schedule counts the same steps.
PARAMS = {"architecture": "simple", "batch_norm": False, "dropout": 0.0, "augment": False,
          "batch_size": 16, "max_epochs": 2, "random_state": 0, "device": "cpu",
          "iterator_train__shuffle": False}

SCRIPT = """
import sys

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import DataLoaderConfiguration

from skbrain import CNNClassifier
from skbrain.datasets import make_synthetic_mri

torch.set_num_threads(1)
data = make_synthetic_mri(64, image_size=24, random_state=0)
accelerator = Accelerator(cpu=True,
                          dataloader_config=DataLoaderConfiguration(split_batches=True))
clf = CNNClassifier(**{PARAMS!r}, accelerator=accelerator).fit(data.data, data.target)
proba = clf.predict_proba(data.data)
batches = [b["train_batch_size"] for b in clf.history_[-1]["batches"]]
# One file per process: lines printed by two processes on one pipe can interleave.
rank, size = accelerator.process_index, accelerator.num_processes
with open(f"{{sys.argv[1]}}.{{rank}}.txt", "w") as out:
    out.write(f"process {{rank}} of {{size}} {{batches}}")
if accelerator.is_main_process:
    weights = {{k: v.numpy() for k, v in clf.module_.state_dict().items()}}
    np.savez(sys.argv[1], proba=proba, **weights)
"""


@pytest.fixture(scope="module")
def data():
    return make_synthetic_mri(64, image_size=24, random_state=0)


def _launch(*args, n=2):
    path = os.pathsep.join(p for p in (os.getcwd(), os.environ.get("PYTHONPATH")) if p)
    # CPU processes even where a GPU is visible (rank 1 would ask for a second GPU).
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": path, "CUDA_VISIBLE_DEVICES": ""}
    # torchrun (what accelerate launch runs on GPUs) on a free local port; accelerate
    # reads its environment and joins the processes with gloo on the CPU.
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node", str(n), *map(str, args)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)


def test_two_processes_train_the_weights_of_one(tmp_path, data):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(SCRIPT.format(PARAMS=PARAMS)))
    run = _launch(script, tmp_path / "two.npz")
    assert run.returncode == 0, run.stderr[-3000:]
    # Each of the two processes saw half of every batch of 16.
    for rank in (0, 1):
        seen = (tmp_path / f"two.npz.{rank}.txt").read_text()
        assert seen == f"process {rank} of 2 [8, 8, 8, 8]"
    two = np.load(tmp_path / "two.npz")
    one = CNNClassifier(**PARAMS).fit(data.data, data.target)
    assert [b["train_batch_size"] for b in one.history_[-1]["batches"]] == [16] * 4
    for name, tensor in one.module_.state_dict().items():
        np.testing.assert_allclose(two[name], tensor.numpy(), rtol=0, atol=1e-6, err_msg=name)
    # Predictions are gathered from both processes, in order.
    np.testing.assert_allclose(two["proba"], one.predict_proba(data.data), atol=1e-6)


def test_an_accelerator_is_shared_by_clone_and_checked(data):
    class FakeAccelerator:
        def prepare(self, *objects):
            return objects

        def backward(self, loss):
            loss.backward()

    accelerator = FakeAccelerator()
    est = CNNClassifier(**PARAMS, accelerator=accelerator)
    assert clone(est).accelerator is accelerator
    with pytest.raises(ValueError, match="accelerator must be None or an accelerate"):
        CNNClassifier(**PARAMS, accelerator="gpu").fit(data.data, data.target)


def test_skbrain_train_accelerate_in_two_processes_writes_once(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(48):
        folder = tmp_path / "data" / ("yes" if i % 2 else "no")
        folder.mkdir(parents=True, exist_ok=True)
        image = rng.integers(0, 256, (40, 40), dtype=np.uint8)
        image[8:20, 8:20] = 255 * (i % 2)
        Image.fromarray(image).save(folder / f"{i}.png")
    output = tmp_path / "out" / "model.skbrain"
    run = _launch("-m", "skbrain", "train", "--accelerate", "--model", "simple", "--data",
                  tmp_path / "data", "--output", output, "--image-size", "32", "--set",
                  "max_epochs=2", "--set", "early_stopping=True", "--device", "cpu")
    assert run.returncode == 0, run.stderr[-3000:]
    # Only the main process reports and writes.
    assert run.stdout.count("test scores of simple") == 1
    from skbrain.persistence import load_model

    model = load_model(output)
    assert model[-1].accelerator is None
    assert model.predict_proba([str(next((tmp_path / "data" / "yes").iterdir()))]).shape == (1, 2)


LESIONS = """
import sys

import torch
from accelerate import Accelerator

from skbrain import CNNClassifier
from skbrain.datasets import make_synthetic_mri

torch.set_num_threads(1)
data = make_synthetic_mri(32, image_size=24, random_state=0)
seen = []
clf = CNNClassifier(architecture="simple", batch_size=8, max_epochs=1, random_state=0,
                    device="cpu", augment_lesions=1.0, accelerator=Accelerator(cpu=True))
clf._build_net_plain = clf._build_net


def build(*args, **kwargs):
    net = clf._build_net_plain(*args, **kwargs)
    loss = net.get_loss

    def recording(y_pred, y_true, *a, training=False, **kw):
        if training:
            seen.extend(y_true.tolist())
        return loss(y_pred, y_true, *a, training=training, **kw)

    vars(net)["get_loss"] = recording
    return net


clf._build_net = build
clf.fit(data.data, data.target)
rank = clf.accelerator.process_index
with open(f"{sys.argv[1]}.{rank}.txt", "w") as out:
    out.write(f"{type(clf.net_).__name__} {sorted(set(seen))} {len(seen)}")
"""


def test_lesions_are_painted_under_accelerate_too(tmp_path):
    script = tmp_path / "lesions.py"
    script.write_text(LESIONS)
    run = _launch(script, tmp_path / "seen")
    assert run.returncode == 0, run.stderr[-3000:]
    # accelerate's mixin replaces train_step_single; the lesions are painted in train_step,
    # so each process's loss saw tumors only (every tumor-free image painted at 1.0).
    for rank in (0, 1):
        name, labels, count = (tmp_path / f"seen.{rank}.txt").read_text().rsplit(" ", 2)
        assert name.startswith("_AcceleratedSkbrainNet") and labels == "[1]" and int(count) > 0
