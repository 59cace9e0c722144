"""The GitHub workflows cannot run here, so their YAML is checked instead: the
jobs exist, the test matrix covers every OS and Python version, the commands
are the README's and the Makefile's, every action is pinned to a commit, and
publishing uses PyPI's trusted publishing.
"""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
CPU_INDEX = "--index-url https://download.pytorch.org/whl/cpu"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def load(name):
    workflow = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def steps(job):
    return job.get("steps", [])


def runs(job):
    return [step["run"] for step in steps(job) if "run" in step]


def make_recipe(target):
    """The command of a Makefile target, as a plain shell command."""
    text = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(rf"^{target}:.*\n\t(.+)$", text, re.M)
    assert match, f"the Makefile has no {target} target"
    return match.group(1).replace("$(PY)", "python").strip()


def test_workflow_files_exist():
    for name in ("tests.yml", "docs.yml", "lint.yml", "publish.yml"):
        assert (WORKFLOWS / name).is_file(), name


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_every_action_is_pinned_to_a_commit(name):
    workflow = load(name)
    uses = [step["uses"] for job in workflow["jobs"].values() for step in steps(job)
            if "uses" in step]
    assert uses, f"{name} uses no actions"
    for action in uses:
        assert PINNED.match(action), f"{name}: {action} is not pinned to a 40-hex commit SHA"
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    for line in text.splitlines():
        if "uses:" in line:
            assert re.search(r"@[0-9a-f]{40} # v\d", line), f"{name}: no # vX comment: {line}"


def test_test_matrix_covers_every_os_and_python():
    job = load("tests.yml")["jobs"]["test"]
    matrix = job["strategy"]["matrix"]
    assert matrix["python-version"] == PYTHONS  # strings: an unquoted 3.10 would be 3.1
    oses = matrix["os"]
    for prefix in ("ubuntu-", "macos-", "windows-"):
        assert any(os_name.startswith(prefix) for os_name in oses), prefix
    assert job["strategy"].get("fail-fast") is False


def test_torch_cpu_wheels_are_installed_before_skbrain():
    job = load("tests.yml")["jobs"]["test"]
    commands = runs(job)
    torch_step = next(i for i, c in enumerate(commands) if "torch torchvision" in c)
    skbrain_step = next(i for i, c in enumerate(commands) if 'install -e ".[test]"' in c)
    assert CPU_INDEX in commands[torch_step]
    assert torch_step < skbrain_step


def test_tests_workflow_runs_the_readme_test_command():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    if "make test" in readme:
        expected = make_recipe("test")
    else:
        assert "python -m pytest" in readme, "the README names no test command"
        expected = "python -m pytest"
    assert expected == "python -m pytest"
    for job_name in ("test", "minimum-dependencies"):
        assert runs(load("tests.yml")["jobs"][job_name])[-1].strip() == expected, job_name


def test_minimum_dependencies_job_pins_every_lower_bound(tmp_path):
    job = load("tests.yml")["jobs"]["minimum-dependencies"]
    script_step = next(c for c in runs(job) if "<<'PY'" in c)
    script = textwrap.dedent(script_step.split("<<'PY'\n", 1)[1].rsplit("\nPY", 1)[0])
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
        check=True, timeout=60,
    )
    pins = dict(line.split("==") for line in result.stdout.split())
    tomllib = pytest.importorskip("tomllib")
    with open(REPO_ROOT / "pyproject.toml", "rb") as f:
        dependencies = tomllib.load(f)["project"]["dependencies"]
    for requirement in dependencies:
        name, bound = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*>=\s*([^,;\s]+)", requirement).groups()
        assert pins.get(name) == bound, requirement
    assert any(CPU_INDEX in c for c in runs(job))
    assert load("tests.yml")["jobs"]["minimum-dependencies"]["steps"][1]["with"][
        "python-version"] == PYTHONS[0]


def test_docs_workflow_builds_like_make_docs():
    workflow = load("docs.yml")
    job = workflow["jobs"]["docs"]
    assert make_recipe("docs") in runs(job)
    assert job.get("env", {}).get("SKBRAIN_DOCS_RUN_EXAMPLES", "1") != "0"


def test_lint_workflow_runs_ruff_from_pre_commit():
    job = next(iter(load("lint.yml")["jobs"].values()))
    commands = " ".join(runs(job))
    assert "ruff check" in commands
    config = yaml.safe_load((REPO_ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    ruff_repo = next(r for r in config["repos"] if r["repo"].endswith("ruff-pre-commit"))
    assert f"ruff=={ruff_repo['rev'].lstrip('v')}" in commands


def test_publish_builds_once_and_uses_trusted_publishing():
    workflow = load("publish.yml")
    assert workflow["on"] == {"release": {"types": ["published"]}}
    assert workflow.get("permissions") == {}
    jobs = workflow["jobs"]
    build = jobs["build"]
    assert any("python -m build" in c for c in runs(build))
    assert any("twine check --strict" in c for c in runs(build))
    assert any(s.get("uses", "").startswith("actions/upload-artifact@") for s in steps(build))

    publish = next(j for j in jobs.values()
                   if any("gh-action-pypi-publish" in s.get("uses", "") for s in steps(j)))
    assert publish["needs"] == "build"
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    assert not any("python -m build" in c for c in runs(publish)), "build once, in build"
    assert any(s.get("uses", "").startswith("actions/download-artifact@")
               for s in steps(publish))
    upload = next(s for s in steps(publish) if "gh-action-pypi-publish" in s.get("uses", ""))
    assert "password" not in upload.get("with", {}), "trusted publishing needs no token"
