import platform
import subprocess
import sys

import pytest

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# A fresh interpreter each time: the thresholds are process-wide and set once.
PROBE = (
    "import numpy as np; from skbrain import SimpleCNNClassifier; "
    "from skbrain._malloc import _state; "
    "X = np.random.default_rng(0).random((8, 1, 16, 16), dtype=np.float32); "
    "SimpleCNNClassifier(max_epochs=1, n_kernels=2, device='cpu').fit(X, [0, 1] * 4); "
    "print(_state['applied'])"
)


def run_probe(monkeypatch, **env):
    for key in ("SKBRAIN_TUNE_MALLOC", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.skipif(not GLIBC, reason="mallopt exists on glibc only")
def test_first_cpu_fit_raises_thresholds(monkeypatch):
    assert run_probe(monkeypatch) == "True"


@pytest.mark.parametrize(
    "env",
    [{"SKBRAIN_TUNE_MALLOC": "0"}, {"MALLOC_MMAP_THRESHOLD_": "65536"}],
)
def test_user_choice_wins(monkeypatch, env):
    assert run_probe(monkeypatch, **env) == "False"


def test_decides_once(monkeypatch):
    from skbrain import _malloc

    monkeypatch.setitem(_malloc._state, "done", True)
    monkeypatch.setitem(_malloc._state, "applied", False)
    monkeypatch.setenv("SKBRAIN_TUNE_MALLOC", "1")
    # dask.distributed, tested in this same session, sets MALLOC_TRIM_THRESHOLD_.
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    assert _malloc.tune_malloc() is False
    assert _malloc.tune_malloc(force=True) is GLIBC
