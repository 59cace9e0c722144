"""A search on a real Dask cluster: two worker processes on this machine."""

import time

import joblib
import numpy as np
import pytest
import torch
from sklearn.model_selection import RandomizedSearchCV

from skbrain import WideCNNClassifier
from skbrain.datasets import make_synthetic_mri
from skbrain.search import grouped_cv, run_search

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.tier2  # starts a local Dask cluster

SPACE = {"n_kernels": [4, 8], "kernel_size": [3, 5], "lr": [1e-3, 1e-2]}


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def data():
    bunch = make_synthetic_mri(24, image_size=32, random_state=0)
    groups = np.arange(24) // 2
    return bunch.data, np.asarray(bunch.target), groups


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    # The workers run torch on one thread (dask's nanny sets OMP_NUM_THREADS=1);
    # the local search does the same so both compute the same numbers.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _estimator():
    return WideCNNClassifier(max_epochs=2, batch_size=8, device="cpu")


def test_workers_run_torch_on_one_thread(client):
    threads = client.run(torch.get_num_threads)
    assert len(threads) == 2
    assert set(threads.values()) == {1}


def test_dask_search_matches_the_local_search(client, data):
    X, y, groups = data
    kwargs = {"param_distributions": SPACE, "n_iter": 3, "cv": 2, "random_state": 0,
              "error_score": "raise"}
    local = run_search(_estimator(), X, y, groups, **kwargs)

    with distributed.get_task_stream(client) as stream:
        remote = run_search(_estimator(), X, y, groups, scheduler=client, **kwargs)

    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_f1"], local.cv_results_["mean_test_f1"], atol=1e-6
    )
    assert remote.n_jobs == -1
    workers = {task["worker"] for task in stream.data}
    assert workers and workers <= set(client.scheduler_info()["workers"])
    assert client.status == "running"  # a client passed in is left open


def test_plain_sklearn_search_on_the_dask_backend(client, data):
    X, y, groups = data
    search = RandomizedSearchCV(
        _estimator().set_params(random_state=0), SPACE, n_iter=2, cv=grouped_cv(2, 0),
        scoring="f1", n_jobs=-1, random_state=0, error_score="raise",
    )
    start = time.perf_counter()
    with joblib.parallel_backend("dask"):
        search.fit(X, y, groups=groups)
    assert time.perf_counter() - start < 60
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.predict(X[:4]).shape == (4,)


def test_run_search_connects_to_a_scheduler_address(client, data):
    X, y, groups = data
    address = client.scheduler.address
    search = run_search(_estimator(), X, y, groups, param_distributions=SPACE, n_iter=2,
                        cv=2, scheduler=address, error_score="raise")
    assert address.startswith("tcp://127.0.0.1:")
    assert len(search.cv_results_["params"]) == 2
