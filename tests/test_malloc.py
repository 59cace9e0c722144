import platform
import subprocess
import sys

import pytest

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# A fresh interpreter each time: the thresholds are process-wide and set once.
# Loading the C library to call mallopt raises in the probe unless it is allowed.
PROBE = (
    "import sys, ctypes, numpy as np; from skbrain import SimpleCNNClassifier; "
    "from skbrain import _malloc; "
    "allowed = sys.argv[1] == 'allowed'; real = ctypes.CDLL; "
    "_malloc.ctypes.CDLL = real if allowed else lambda *a: (_ for _ in ()).throw("
    "RuntimeError('mallopt called')); "
    "X = np.random.default_rng(0).random((8, 1, 16, 16), dtype=np.float32); "
    "clf = SimpleCNNClassifier(max_epochs=1, n_kernels=2, device='cpu').fit(X, [0, 1] * 4); "
    "clf.predict(X); _malloc.ctypes.CDLL = real; "
    "print(_malloc._state['applied'])"
)


def run_probe(monkeypatch, allowed=True, **env):
    for key in ("SKBRAIN_TUNE_MALLOC", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    out = subprocess.run([sys.executable, "-c", PROBE, "allowed" if allowed else "refused"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


# Each probe is a fresh interpreter that imports torch and fits (about 10 s on
# two loaded cores): the default's guard runs in make test, the opt-in's in the
# second tier.
@pytest.mark.parametrize("env", [{}, pytest.param({"SKBRAIN_TUNE_MALLOC": "0"},
                                                  marks=pytest.mark.tier2)])
def test_fit_and_predict_leave_the_process_allocator_alone_by_default(monkeypatch, env):
    assert run_probe(monkeypatch, allowed=False, **env) == "False"


@pytest.mark.tier2
@pytest.mark.skipif(not GLIBC, reason="mallopt exists on glibc only")
def test_opting_in_raises_the_thresholds_on_the_first_cpu_fit(monkeypatch):
    assert run_probe(monkeypatch, SKBRAIN_TUNE_MALLOC="1") == "True"


@pytest.mark.tier2
def test_the_users_own_malloc_settings_win_over_the_opt_in(monkeypatch):
    env = {"SKBRAIN_TUNE_MALLOC": "1", "MALLOC_MMAP_THRESHOLD_": "65536"}
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
