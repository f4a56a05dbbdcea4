"""The tests survive adaptation: after `lifecycle init` on other data, the fast family passes.

A copy of the working tree (what is on disk, committed or not) is adapted to the churn table of
test_init.py, then the fast tests (no server, not slow) run there with the copy's own code. They
build their data and settings in fixtures (tests/fixtures), or read the repository's example
generically, so the first pull request after adapting is green.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_init import CHURN, LIFECYCLE, ROOT, churn_table

FAST = "not integration and not slow and not workflows and not faults"  # make test-fast


def copy_working_tree(target: Path) -> None:
    """The files git would see (tracked or not, ignored ones left out), as they are on disk."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():  # a deleted file not yet staged is still listed
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)  # DVC and tests expect git
    subprocess.run(["git", "add", "-A"], cwd=target, check=True)


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)


@pytest.mark.slow
def test_the_fast_tests_pass_in_a_copy_adapted_to_other_data(tmp_path):
    """Takes several minutes: the whole fast family runs again in the copy."""
    clone = tmp_path / "clone"
    copy_working_tree(clone)
    churn_table().to_csv(clone / "churn.csv", index=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "GITHUB_"))}
    env["PYTHONPATH"] = str(clone / "src")  # the copy's code, not this checkout's editable one
    where = run([sys.executable, "-c", "import lifecycle; print(lifecycle.__file__)"], clone, env)
    assert Path(where.stdout.strip()).is_relative_to(clone / "src"), where.stdout + where.stderr

    init = [str(LIFECYCLE), "init", "--data", "churn.csv", "--target", "churned", "--force"]
    done = run([*init, "--protected", "gender"], clone, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "churned" in (clone / "params.yaml").read_text(encoding="utf-8")
    assert (clone / CHURN).is_file()

    pytest_args = ["-m", "pytest", "-m", FAST, "-x", "-q", "-p", "no:cacheprovider"]
    done = run([sys.executable, *pytest_args], clone, env)
    assert done.returncode == 0, f"{done.stdout[-5000:]}\n{done.stderr[-3000:]}"
