"""What the deploy and rollback tests share: a recording deploy command and registered versions.

``RECORDER`` is a real deploy command for the `command` target: it appends its arguments
({bento_tag} {image} {environment} {version}) to $DEPLOY_RECORD and exits with $DEPLOY_EXIT
(default 0), so a test sees what was deployed, in which order, and can make a deploy fail.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mlflow import MlflowClient

BENTO = "credit-default:20260101abcdef"
RECORDER = """
import json, os, sys
with open(os.environ["DEPLOY_RECORD"], "a") as out:
    out.write(json.dumps(sys.argv[1:]) + "\\n")
sys.exit(int(os.environ.get("DEPLOY_EXIT", "0")))
"""
GITHUB_VARIABLES = (
    "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_TOKEN", "GH_TOKEN", "GITHUB_ACTIONS",
    "GITHUB_RUN_ID", "GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_ACTOR",
    "GITHUB_TRIGGERING_ACTOR", "GITHUB_API_URL",
)  # fmt: skip


def recorder_command(folder: Path) -> str:
    script = folder / "recorder.py"
    script.write_text(RECORDER, encoding="utf-8")
    return f"{sys.executable} {script} {{bento_tag}} {{image}} {{environment}} {{version}}"


def recorded(path: Path) -> list[list[str]]:
    """Every deploy command run so far: its arguments, in order."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def another_version(name: str, like: str, bento_tag: str) -> str:
    """A new version of the registered model from the run of version ``like``, with a Bento."""
    client = MlflowClient()
    source = client.get_model_version(name, like)
    made = client.create_model_version(name, source.source, run_id=source.run_id)
    client.set_model_version_tag(name, made.version, "bento.tag", bento_tag)
    return str(made.version)
