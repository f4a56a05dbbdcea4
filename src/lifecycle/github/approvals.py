"""Who approved this workflow run's deployment to an environment: GitHub's review history.

``GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals`` lists the reviews of the run's
pending deployments (each: the environments, the state, the reviewer). Reading it needs the
job's token with ``actions: read``. The alias history records the approver of every move; when
it cannot be read, the move still happens and the reason is given instead.
"""

from __future__ import annotations

import os

from lifecycle.errors import LifecycleError


def approver(environment: str) -> tuple[str, str]:
    """(login, problem): who approved this run's deployment to ``environment``.

    ("", "") outside a workflow run or when no one reviewed it (an environment without required
    reviewers); ("", why) when the review history could not be read.
    """
    run_id = os.environ.get("GITHUB_RUN_ID", "")
    if not run_id:
        return "", ""
    if not (os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")):
        return "", (
            "no GitHub token to read this run's approvals: give the step GITHUB_TOKEN (the deploy "
            "and rollback actions' github-token input) and the job `actions: read`"
        )
    from lifecycle.github.api import GitHub

    try:
        client = GitHub.from_env()
        path = client.repo_path(f"/actions/runs/{run_id}/approvals")
        answer = client.send("GET", path)
    except LifecycleError as exc:
        return "", str(exc)
    if answer.status >= 400:
        return "", answer.describe("GET", path)
    approved = [
        review
        for review in answer.payload or []
        if review.get("state") == "approved"
        and environment in {e.get("name") for e in review.get("environments") or []}
    ]
    if not approved:
        return "", ""
    return str((approved[-1].get("user") or {}).get("login", "")), ""
