"""GitHub environments as code: a committed file applied through GitHub's REST API.

The file (default `.github/environments.yml`) lists each environment with its required reviewers,
wait timer and branch policy. Applying it is idempotent: the environment is created or updated
with PUT, and the custom branch policies are made to match the file exactly.

`protection_problems` reads one environment back from GitHub and says what leaves it open: no
required reviewer, or a branch policy that lets any branch deploy. The release checks prod with
it before deploying anything. Reading needs only "Actions: read" (a workflow's `actions: read`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lifecycle.errors import ConfigError
from lifecycle.github.api import Answer, GitHub

DEFAULT_FILE = Path(".github/environments.yml")
OWNER = "@owner"  # stands for the repository's owner, so the template works unchanged
ANY_BRANCH = frozenset({"*", "**"})  # branch-policy patterns that match every branch
_READ_HINTS = {
    403: "the token may not read it: give the job `permissions: actions: read` (a fine-grained "
    'token needs the repository permission "Actions: read")',
    404: "it does not exist, or the token cannot see the repository: create it with "
    "`lifecycle environments` (an administrator's token) and check GITHUB_REPOSITORY",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reviewer(_Strict):
    user: str | None = None
    team: str | None = None  # "org/team-slug"

    @model_validator(mode="after")
    def _one_kind(self) -> Reviewer:
        if (self.user is None) == (self.team is None):
            raise ValueError("a reviewer is either {user: login} or {team: org/slug}")
        if self.team is not None and self.team.count("/") != 1:
            raise ValueError(f"team '{self.team}' must be written org/team-slug")
        return self


class EnvironmentSpec(_Strict):
    wait_timer: Annotated[int, Field(ge=0, le=43_200)] = 0
    prevent_self_review: bool = False
    reviewers: Annotated[list[Reviewer], Field(max_length=6)] = []
    # "all" (any branch), "protected" (protected branches only) or a list of name patterns
    branches: Literal["all", "protected"] | list[str] = "all"


class EnvironmentsFile(_Strict):
    environments: dict[str, EnvironmentSpec]


def load(path: Path) -> EnvironmentsFile:
    """Read and validate the environments file; ConfigError names the file and the key."""
    if not path.is_file():
        raise ConfigError(f"{path}: environments file not found; pass --file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return EnvironmentsFile.model_validate(raw)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None


def apply(client: GitHub, spec: EnvironmentsFile) -> list[str]:
    """Create or update every environment; returns one line per environment saying what it has."""
    lines = []
    for name, env in spec.environments.items():
        body = {
            "wait_timer": env.wait_timer,
            "prevent_self_review": env.prevent_self_review,
            "reviewers": [_reviewer_id(client, r) for r in env.reviewers],
            "deployment_branch_policy": _branch_policy(env.branches),
        }
        client.request("PUT", client.repo_path(f"/environments/{name}"), body)
        if isinstance(env.branches, list):
            _sync_branch_policies(client, name, env.branches)
        lines.append(describe(name, env))
    return lines


def _branch_policy(branches: str | list[str]) -> dict[str, bool] | None:
    if branches == "all":
        return None
    if branches == "protected":
        return {"protected_branches": True, "custom_branch_policies": False}
    return {"protected_branches": False, "custom_branch_policies": True}


def _reviewer_id(client: GitHub, reviewer: Reviewer) -> dict[str, object]:
    if reviewer.team is not None:
        org, slug = reviewer.team.split("/")
        team = client.request("GET", f"/orgs/{org}/teams/{slug}")
        return {"type": "Team", "id": team["id"]}
    login = reviewer.user or ""
    if login == OWNER:
        owner = client.request("GET", client.repo_path(""))["owner"]
        if owner.get("type") != "User":
            raise ConfigError(
                f"reviewer {OWNER}: the repository's owner '{owner.get('login')}' is an "
                "organization, which cannot review; list users or teams instead"
            )
        return {"type": "User", "id": owner["id"]}
    return {"type": "User", "id": client.request("GET", f"/users/{login}")["id"]}


def _sync_branch_policies(client: GitHub, environment: str, patterns: list[str]) -> None:
    path = client.repo_path(f"/environments/{environment}/deployment-branch-policies")
    existing = client.paginate(path, key="branch_policies")
    have = {p["name"]: p["id"] for p in existing if p.get("type", "branch") == "branch"}
    for pattern in patterns:
        if pattern not in have:
            client.request("POST", path, {"name": pattern, "type": "branch"})
    for pattern, policy_id in have.items():
        if pattern not in patterns:
            client.request("DELETE", f"{path}/{policy_id}")


def describe(name: str, env: EnvironmentSpec) -> str:
    who = ", ".join(r.user or r.team or "" for r in env.reviewers) or "none"
    branches = env.branches if isinstance(env.branches, str) else ", ".join(env.branches)
    review = "; no self-review" if env.prevent_self_review else ""
    return f"{name}: reviewers {who}; wait {env.wait_timer} min; branches {branches}{review}"


def protection_problems(client: GitHub, name: str) -> list[str]:
    """What leaves environment `name` open on GitHub: no required reviewer, any branch allowed.

    ConfigError when GitHub will not show it (403, 404), saying which permission or step is missing.
    """
    path = client.repo_path(f"/environments/{name}")
    answer = client.send("GET", path)
    if answer.status in _READ_HINTS:
        raise ConfigError(_unreadable(name, path, answer))
    if answer.status >= 400:
        raise ConfigError(answer.describe("GET", path))
    environment = answer.payload or {}
    problems = []
    if not _reviewers(environment):
        problems.append(
            f"{name} has no required reviewers, so a deploy to it starts without approval"
        )
    branches = _open_branches(client, name, environment.get("deployment_branch_policy"))
    if branches:
        problems.append(f"{name} lets {branches} deploy to it")
    return problems


def _unreadable(name: str, path: str, answer: Answer) -> str:
    said = f" ({answer.message})" if answer.message else ""
    return (
        f"cannot read environment {name}'s protection rules: GitHub API GET {path} answered "
        f"{answer.status}{said}; {_READ_HINTS[answer.status]}"
    )


def _reviewers(environment: dict[str, Any]) -> list[Any]:
    rules = environment.get("protection_rules") or []
    return [
        reviewer
        for rule in rules
        if isinstance(rule, dict) and rule.get("type") == "required_reviewers"
        for reviewer in rule.get("reviewers") or []
    ]


def _open_branches(client: GitHub, name: str, policy: dict[str, bool] | None) -> str:
    """Which branches beyond the intended ones may deploy ("" when the policy restricts them)."""
    if not policy:
        return "any branch"
    if policy.get("protected_branches"):
        return ""
    path = client.repo_path(f"/environments/{name}/deployment-branch-policies")
    patterns = {p.get("name", "") for p in client.paginate(path, key="branch_policies")}
    wide = sorted(patterns & ANY_BRANCH)
    return f"any branch (pattern {', '.join(wide)})" if wide else ""
