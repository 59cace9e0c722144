"""Same seed, same model; interrupted fits stay usable; big predictions stay small."""

import os
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest
import torch
from joblib import Parallel, delayed
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback

from skbrain.classifiers import CompactCNNClassifier, SimpleCNNClassifier

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST = {"max_epochs": 3, "n_kernels": 4, "batch_size": 8, "random_state": 0}


def _state(clf):
    return {k: v.detach().clone() for k, v in clf.module_.state_dict().items()}


def test_same_seed_gives_identical_weights_and_predictions_in_one_process(synthetic_images):
    X, y = synthetic_images
    # augment=True: the random flips and zooms are seeded too.
    first = SimpleCNNClassifier(augment=True, **FAST).fit(X, y)
    second = SimpleCNNClassifier(augment=True, **FAST).fit(X, y)
    a, b = _state(first), _state(second)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    other = SimpleCNNClassifier(augment=True, **{**FAST, "random_state": 1}).fit(X, y)
    assert not all(torch.equal(a[k], v) for k, v in _state(other).items())


def test_refitting_one_estimator_repeats_itself(synthetic_images):
    X, y = synthetic_images
    # deterministic=True: cuDNN may pick kernels that add in another order each run.
    clf = CompactCNNClassifier(deterministic=True, **FAST)
    once = clf.fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(clf.fit(X, y).predict_proba(X), once)


SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    from skbrain.classifiers import SimpleCNNClassifier
    from skbrain.datasets import make_synthetic_mri

    data = make_synthetic_mri(24, image_size=16, random_state=0)
    clf = SimpleCNNClassifier(max_epochs=2, n_kernels=4, batch_size=8, random_state=0,
                              deterministic=True).fit(data.data, data.target)
    np.save(sys.argv[1], clf.predict_proba(data.data))
    """
)


@pytest.mark.tier2  # two fresh interpreters
def test_same_seed_gives_identical_predictions_across_processes(tmp_path):
    script = tmp_path / "fit.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": REPO_ROOT}
    outputs = []
    for run in range(2):
        out = tmp_path / f"proba{run}.npy"
        subprocess.run([sys.executable, str(script), str(out)], check=True, env=env,
                       timeout=120)
        outputs.append(np.load(out))
    np.testing.assert_array_equal(outputs[0], outputs[1])


def test_deterministic_option_runs_and_restores_torch_settings(synthetic_images):
    X, y = synthetic_images
    before = torch.are_deterministic_algorithms_enabled()
    clf = SimpleCNNClassifier(deterministic=True, **FAST).fit(X, y)
    assert torch.are_deterministic_algorithms_enabled() == before
    np.testing.assert_array_equal(
        clf.predict_proba(X), SimpleCNNClassifier(**FAST).fit(X, y).predict_proba(X)
    )


class InterruptAt(Callback):
    """Raises KeyboardInterrupt at the end of one epoch, as Ctrl-C would."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


def test_ctrl_c_stops_the_fit_and_leaves_a_usable_model(synthetic_images):
    X, y = synthetic_images
    clf = SimpleCNNClassifier(**{**FAST, "max_epochs": 10}, callbacks=[InterruptAt(3)])
    assert clf.fit(X, y) is clf
    # skorch catches the interrupt; the epochs run so far stay in the history.
    assert len(clf.history_) == 3
    assert clf.predict(X).shape == (len(X),) and hasattr(clf, "device_")


def test_ctrl_c_with_early_stopping_keeps_the_weights_trained_so_far(synthetic_images):
    # EarlyStopping(load_best=True) restores the best weights only when
    # training ends normally; after Ctrl-C the model holds the last epoch's.
    X, y = synthetic_images
    clf = SimpleCNNClassifier(**{**FAST, "max_epochs": 10}, early_stopping=2,
                              callbacks=[InterruptAt(2)]).fit(X, y)
    assert len(clf.history_) == 2
    assert np.isfinite(clf.predict_proba(X)).all()


def test_predict_on_ten_thousand_images_stays_batchwise():
    X = np.random.RandomState(0).randint(0, 256, (10_000, 1, 32, 32), dtype=np.uint8)
    y = np.arange(len(X)) % 2
    clf = SimpleCNNClassifier(max_epochs=1, n_kernels=4, batch_size=500, random_state=0,
                              augment=False, lr_schedule=None).fit(X[:1000], y[:1000])
    float_copy = X.size * 4
    tracemalloc.start()
    try:
        proba = clf.predict_proba(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert proba.shape == (10_000, 2) and np.isfinite(proba).all()
    # No float copy of the whole input is made: uint8 batches go to the net.
    assert peak < float_copy / 4, (peak, float_copy)


def _torch_threads():
    return torch.get_num_threads()


@pytest.mark.tier2  # worker processes
def test_a_search_with_two_jobs_works_on_one_thread_per_worker(synthetic_images):
    X, y = synthetic_images
    threads = Parallel(n_jobs=2)(delayed(_torch_threads)() for _ in range(2))
    assert max(threads) <= max(1, os.cpu_count() // 2)
    search = GridSearchCV(
        SimpleCNNClassifier(max_epochs=1, batch_size=8, random_state=0, device="cpu"),
        {"n_kernels": [2, 4]},
        cv=2,
        n_jobs=2,
    ).fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.predict(X).shape == (len(X),)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_runs_with_deterministic_true_repeat(synthetic_images):
    X, y = synthetic_images
    runs = [
        SimpleCNNClassifier(deterministic=True, device="cuda", **FAST).fit(X, y).predict_proba(X)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(*runs)
