"""Run this repository's GitHub workflows offline with act, against a real `mlflow server`.

- ``Snapshot``: a throwaway git repository holding a copy of the working tree (what a clone
  would get) with the tests' own settings (tests/fixtures, never the repository's params.yaml)
  and generated data tracked with DVC and pushed to the snapshot's own DVC remote (never the
  repository's data), free loopback ports and a short load test; optionally smaller or broken
  data. So the workflow runs pass whatever data and settings the repository is adapted to.
- ``Snapshot.act(workflow, event, payload)``: runs act in self-hosted mode (the host's tools)
  with the stand-ins in ``standins/`` for third-party actions; returns the exit code and log.

act 0.2.89 does not know the `deployment: false` key of a job's environment nor the `queue: max`
key of a concurrency group (GitHub documents both; act's schema rejects them), so the snapshot's
copies of the workflows drop those lines.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from fixtures import CONTRACT, credit_params

DEFAULT_ROWS = 30_000  # as many as `lifecycle generate` writes by default
ROOT = Path(__file__).resolve().parents[2]
STANDINS = Path(__file__).resolve().parent / "standins"
PIN = re.compile(r"uses:\s*([\w.-]+/[\w.-]+)@([0-9a-f]{40})")
BIN = Path(sys.executable).parent


def find_uv() -> Path | None:
    """uv for the setup action: $UV, on PATH, or where `make` installs it (.tools/bin)."""
    for candidate in (os.environ.get("UV"), shutil.which("uv"), str(ROOT / ".tools/bin/uv")):
        if candidate and Path(candidate).is_file():
            return Path(candidate).resolve()
    return None


def pinned_actions() -> set[tuple[str, str]]:
    """(owner/name, sha) of every third-party action the workflows and actions use."""
    files = [*ROOT.glob(".github/workflows/*.yml"), *ROOT.glob("actions/*/action.yml")]
    return {m.groups() for f in files for m in PIN.finditer(f.read_text(encoding="utf-8"))}


@dataclass
class Result:
    code: int
    log: str
    seconds: float

    def job_failed(self, name: str) -> bool:
        return bool(re.search(rf"\[[^\]]*{re.escape(name)}[^\]]*\]\s+🏁\s+Job failed", self.log))

    def job_succeeded(self, name: str) -> bool:
        return bool(re.search(rf"\[[^\]]*{re.escape(name)}[^\]]*\]\s+🏁\s+Job succeeded", self.log))


class Snapshot:
    """A committed copy of the working tree in ``folder``, for act to run workflows on."""

    def __init__(self, folder: Path, state: Path) -> None:
        self.folder = folder
        self.state = state  # artifacts, deployed servers, logs: outside the repository
        self.run_count = 0

    @classmethod
    def create(cls, folder: Path, state: Path, params: dict | None = None) -> Snapshot:
        files = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT, capture_output=True, check=True,
        ).stdout.decode().split("\0")  # fmt: skip
        for name in filter(None, files):
            source = ROOT / name
            if source.is_file():
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, folder / name)
        state.mkdir(parents=True, exist_ok=True)
        snapshot = cls(folder, state)
        snapshot._drop_unsupported_keys()
        own = credit_params(Path("data/credit.parquet"))
        own["gates"]["data"]["contract"] = CONTRACT.relative_to(ROOT).as_posix()
        (folder / "params.yaml").write_text(yaml.safe_dump(own, sort_keys=False), encoding="utf-8")
        snapshot.update_params(params or {})
        snapshot.git("init", "-q", "-b", "main")
        snapshot.replace_data(DEFAULT_ROWS)
        snapshot.commit("snapshot of the working tree")
        return snapshot

    def git(self, *args: str) -> str:
        env = {**os.environ, "GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@example.com",
               "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.com"}  # fmt: skip
        done = subprocess.run(
            ["git", *args], cwd=self.folder, env=env, capture_output=True, text=True, check=True
        )
        return done.stdout

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)

    def _drop_unsupported_keys(self) -> None:
        for path in (self.folder / ".github/workflows").glob("*.yml"):
            text = path.read_text(encoding="utf-8")
            text = re.sub(r"\n\s+(deployment: false|queue: max\b[^\n]*)(?=\n)", "", text)
            path.write_text(text, encoding="utf-8")

    def update_params(self, overrides: dict) -> None:
        path = self.folder / "params.yaml"
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        _merge(raw, overrides)
        path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")

    def replace_data(self, rows: int, seed: int = 42, problems: str = "") -> None:
        """Generate data, track it with DVC and push it to the snapshot's own DVC remote."""
        data = yaml.safe_load((self.folder / "params.yaml").read_text())["data"]["path"]
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
        command = [str(BIN / "lifecycle"), "generate", "--rows", str(rows), "--seed", str(seed)]
        if problems:
            command += ["--problems", problems]
        tracked = Path(data).parts[0]  # data.dvc tracks the data folder
        for step in (command, [str(BIN / "dvc"), "add", tracked], [str(BIN / "dvc"), "push"]):
            subprocess.run(step, cwd=self.folder, env=env, check=True, capture_output=True)

    def act(
        self,
        workflow: str,
        event: str,
        payload: dict,
        variables: dict[str, str],
        secrets: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
        actions: dict[str, Path] | None = None,
    ) -> Result:
        """Run one workflow under act; the log is also kept in ``state/act-<n>-<workflow>.log``.

        ``actions`` maps ``owner/name@ref`` to a local folder that act uses for that repository.
        """
        uv = find_uv()
        if uv is None:
            raise RuntimeError("uv not found: run `make ci` (it installs uv) or put uv on PATH")
        self.run_count += 1
        event_file = self.state / f"event-{self.run_count}.json"
        event_file.write_text(json.dumps(payload), encoding="utf-8")
        command = [
            str(BIN / "act"), event, "-W", f".github/workflows/{workflow}", "-e", str(event_file),
            "-P", "ubuntu-latest=-self-hosted", "--concurrent-jobs", "2", "--actor", "ci-tester",
            "--action-cache-path", str(self.state / "act"), "--no-cache-server",
        ]  # fmt: skip
        for repo, sha in sorted(pinned_actions()):
            command += ["--local-repository", f"{repo}@{sha}={STANDINS / repo}"]
        for ref, folder in (actions or {}).items():
            command += ["--local-repository", f"{ref}={folder}"]
        for name, value in variables.items():
            command += ["--var", f"{name}={value}"]
        for name, value in (env or {}).items():  # e.g. GITHUB_API_URL, which act sets itself
            command += ["--env", f"{name}={value}"]
        for name, value in (secrets or {}).items():  # test values only: they show in argv
            command += ["--secret", f"{name}={value}"]
        process_env = self._env(uv)
        started = time.monotonic()
        done = subprocess.run(
            command, cwd=self.folder, env=process_env, capture_output=True, text=True, timeout=3600
        )
        log = done.stdout + done.stderr
        (self.state / f"act-{self.run_count}-{workflow}.log").write_text(log, encoding="utf-8")
        return Result(done.returncode, log, time.monotonic() - started)

    def _env(self, uv: Path) -> dict[str, str]:
        """The host's environment (certificates, caches), minus what would steer the runs."""
        steer = ("MLFLOW_", "GITHUB_", "RUNNER_", "BENTOML_", "LIFECYCLE_", "PYTEST", "VIRTUAL_ENV")
        env = {k: v for k, v in os.environ.items() if not k.startswith(steer)}
        env.pop("ACT", None)
        host_path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p) != BIN]
        env["PATH"] = os.pathsep.join([str(uv.parent), *host_path])
        env["LIFECYCLE_ACT_ARTIFACTS"] = str(self.state / f"artifacts-{self.run_count}")
        env["LIFECYCLE_DEPLOY_DIR"] = str(self.state / "deployments")
        return env

    def clean_up(self) -> None:
        """Stop every server the `local` deploy target started, then drop act's workspaces."""
        for state in (self.state / "deployments").glob("*.json"):
            pid = json.loads(state.read_text())["pid"]
            try:
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        time.sleep(1)
        shutil.rmtree(self.state / "act", ignore_errors=True)


def _merge(base: dict, overrides: dict) -> None:
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
