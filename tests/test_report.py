"""The HTML report: self-contained, one row per image, opened in a real headless browser."""

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch

from skbrain import ImageResizer, SimpleCNNClassifier
from skbrain.cli import main
from skbrain.datasets import make_synthetic_mri
from skbrain.persistence import save_model
from skbrain.report import build_report

N = 24


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """Generated slices as files, four 'patients' of six slices, masks for the tumors."""
    root = tmp_path_factory.mktemp("report")
    data = make_synthetic_mri(N, image_size=48, random_state=0)
    paths, masks = [], []
    for i, (image, mask) in enumerate(zip(data.data, data.masks, strict=True)):
        sub = root / ("yes" if data.target[i] else "no")
        sub.mkdir(exist_ok=True)
        Image.fromarray(image).save(sub / f"s{i:02d}.png")
        paths.append(str(sub / f"s{i:02d}.png"))
        if data.target[i]:
            Image.fromarray(mask.astype(np.uint8) * 255).save(root / f"m{i:02d}.png")
            masks.append(str(root / f"m{i:02d}.png"))
        else:
            masks.append("")
    model = Pipeline([("resize", ImageResizer(48)),
                      ("cnn", SimpleCNNClassifier(max_epochs=3, random_state=0))])
    model.fit(paths, data.target)
    bunch = Bunch(data=np.array(paths), target=data.target, groups=np.arange(N) // 6,
                  masks=np.array(masks), group_kind="patient")
    return model, bunch, root


def test_page_is_self_contained_with_one_row_per_image_and_group(collection, tmp_path):
    model, bunch, _ = collection
    result = build_report(model, bunch, tmp_path / "r.html", n_bootstrap=50)
    page = (tmp_path / "r.html").read_text()
    assert result["n_images"] == N and result["n_groups"] == 4
    assert not re.search(r"""(src|href)=['"]?(https?:)?//""", page)
    assert "<link" not in page and "<script src" not in page
    images = page.split("<table id='images'")[1].split("</table>")[0]
    assert images.count("<tr class=") == N
    groups = page.split("<table id='groups'")[1].split("</table>")[0]
    assert groups.count("<tr class=") == 4
    # The most confident mistakes first: the loss column never rises down the table.
    losses = [float(v) for v in re.findall(r"<td data-v='([0-9.]+)'>[0-9.]+</td></tr>", images)]
    assert len(losses) == N and losses == sorted(losses, reverse=True)
    for name in ("ROC AUC", "average precision", "balanced accuracy", "recall (tumor)"):
        assert name in page
    assert page.count("data:image/png;base64,") == 3  # ROC, precision-recall, confusion
    assert page.count("data:image/jpeg;base64,") == 2 * N  # thumbnail and overlay


def test_nifti_volumes_get_one_row_per_scan(collection, tmp_path):
    nib = pytest.importorskip("nibabel")
    from skbrain.datasets import load_nifti

    model, _, _ = collection
    synthetic = make_synthetic_mri(8, image_size=48, random_state=1)
    for v in range(4):
        sub = tmp_path / "scans" / ("yes" if v % 2 else "no")
        sub.mkdir(parents=True, exist_ok=True)
        # Three axial slices of one generated image each, one class per volume.
        picked = synthetic.data[synthetic.target == v % 2][v // 2]
        volume = np.repeat(picked[:, :, None], 3, axis=2).astype(np.float32)
        nib.save(nib.Nifti1Image(volume, np.eye(4)), sub / f"scan{v}.nii.gz")
    from_folder = build_report(model, tmp_path / "scans", tmp_path / "a.html", n_bootstrap=20)
    assert from_folder["n_images"] == 4 and from_folder["n_groups"] == 4
    assert "<h2>Per scan</h2>" in (tmp_path / "a.html").read_text()
    every_slice = load_nifti(tmp_path / "scans", slices="all")
    result = build_report(model, every_slice, tmp_path / "b.html", n_bootstrap=20)
    page = (tmp_path / "b.html").read_text()
    assert result["n_images"] == 12 and result["n_groups"] == 4
    groups = page.split("<table id='groups'")[1].split("</table>")[0]
    assert "<h2>Per scan</h2>" in page and groups.count("<tr class=") == 4


def test_clear_errors(collection, tmp_path):
    model, bunch, _ = collection
    with pytest.raises(ValueError, match="is a folder"):
        build_report(model, bunch, tmp_path)
    with pytest.raises(ValueError, match="method must be .auto. or one of"):
        build_report(model, bunch, tmp_path / "r.html", method="magic")


def _browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.skip("Chromium and chromedriver are not installed (.ci/run installs them: "
                    "apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options)


def test_the_page_in_a_real_browser(collection, tmp_path):
    pytest.importorskip("selenium")
    from selenium.webdriver.common.by import By

    model, bunch, _ = collection
    page = tmp_path / "report.html"
    build_report(model, bunch, page, n_bootstrap=50)
    browser = _browser()
    try:
        browser.get(page.as_uri())
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
        rows = browser.find_elements(By.CSS_SELECTOR, "#images tbody tr")
        assert len(rows) == N
        heads = browser.find_elements(By.CSS_SELECTOR, "#images th")
        column = [h.text for h in heads].index("p(tumor)")

        def shown():
            cells = browser.find_elements(By.CSS_SELECTOR,
                                          f"#images tbody td:nth-child({column + 1})")
            return [float(c.get_attribute("data-v")) for c in cells]

        heads[column].click()
        assert shown() == sorted(shown()) and len(shown()) == N
        heads[column].click()
        assert shown() == sorted(shown(), reverse=True)
        file_column = [h.text for h in heads].index("file")
        heads[file_column].click()
        names = [c.text for c in browser.find_elements(
            By.CSS_SELECTOR, f"#images tbody td:nth-child({file_column + 1})")]
        assert names == sorted(names)
        assert browser.find_elements(By.CSS_SELECTOR, "#groups tbody tr")
        shot = Path(os.environ.get("SKBRAIN_REPORT_SCREENSHOT", tmp_path / "report.png"))
        assert browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    finally:
        browser.quit()


def test_cli_report_parses_and_calls_the_library(collection, tmp_path, capsys):
    model, _, root = collection
    save_model(model, tmp_path / "m.skbrain")
    data = tmp_path / "data"
    shutil.copytree(root / "yes", data / "yes")
    shutil.copytree(root / "no", data / "no")
    out = tmp_path / "page.html"
    assert main(["report", str(tmp_path / "m.skbrain"), "--data", str(data), "--output",
                 str(out)]) == 0
    assert f"wrote {out}: {N} images" in capsys.readouterr().out
    assert out.read_text().count("<tr class=") == N  # no group rows for plain folders
    assert main(["report", str(tmp_path / "m.skbrain"), "--data", str(tmp_path / "none"),
                 "--output", str(out)]) != 0


def test_the_bootstraps_numpy_metrics_equal_sklearns():
    from sklearn import metrics

    from skbrain.report import _scores

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    proba = np.round(np.clip(y * 0.3 + rng.random(200) * 0.7, 0, 1), 2)  # with ties
    pred = (proba >= 0.5).astype(int)
    got = {name: value for name, value, _, _ in _scores(y, proba, pred, np.arange(200) // 4,
                                                        50, 0)}
    expected = {"ROC AUC": metrics.roc_auc_score(y, proba),
                "average precision": metrics.average_precision_score(y, proba),
                "balanced accuracy": metrics.balanced_accuracy_score(y, pred),
                "accuracy": metrics.accuracy_score(y, pred),
                "recall (tumor)": metrics.recall_score(y, pred),
                "specificity": metrics.recall_score(y, pred, pos_label=0),
                "precision": metrics.precision_score(y, pred),
                "F1": metrics.f1_score(y, pred)}
    assert got == pytest.approx(expected, abs=1e-12)
