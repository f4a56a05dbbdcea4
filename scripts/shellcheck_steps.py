"""Shellcheck every `run:` script of the workflows and actions (actionlint does this, but it
cannot be installed offline). Exits non-zero, naming the file and step, on any finding.

    python scripts/shellcheck_steps.py [files...]   # default: workflows, actions, stand-ins
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = (
    ".github/workflows/*.yml",
    "actions/*/action.yml",
    "tests/workflows/standins/*/*/action.yml",
)


def steps(document: dict) -> Iterator[tuple[str, dict]]:
    """(where, step) for every step of a workflow's jobs or a composite action."""
    for job_id, job in (document.get("jobs") or {}).items():
        for number, step in enumerate(job.get("steps") or [], start=1):
            yield f"job {job_id} step {step.get('name', number)}", step
    for number, step in enumerate((document.get("runs") or {}).get("steps") or [], start=1):
        yield f"step {step.get('name', number)}", step


def check(path: Path, shellcheck: str) -> int:
    failures = 0
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    for where, step in steps(document):
        script = step.get("run")
        if not script or step.get("shell", "bash") != "bash":
            continue
        with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as handle:
            handle.write("#!/usr/bin/env bash\n" + script)
        done = subprocess.run(
            [shellcheck, "-s", "bash", handle.name], capture_output=True, text=True
        )
        Path(handle.name).unlink()
        if done.returncode:
            failures += 1
            print(f"{path.relative_to(ROOT)}: {where}:\n{done.stdout.replace(handle.name, 'run')}")
    return failures


def main(argv: list[str]) -> int:
    shellcheck = str(Path(sys.executable).with_name("shellcheck"))
    files = [Path(a).resolve() for a in argv] or [p for g in DEFAULT for p in sorted(ROOT.glob(g))]
    failures = sum(check(path, shellcheck) for path in files)
    print(f"shellcheck: {len(files)} files, {failures} step(s) with findings")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
