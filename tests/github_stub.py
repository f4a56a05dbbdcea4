"""A small stand-in for GitHub's REST API on loopback, recording every request it receives.

It keeps just enough state (issues and their comments, environments, branch policies, deployments,
workflow dispatches, runs' approvals) for the calls `lifecycle` makes, and answers 401 to a
request without the expected token, so the tests check both what was sent and that it was
authenticated.

Like a real repository, comments carry their author: those the token writes are by
``github-actions[bot]``. Calls listed in ``state.forbidden`` answer 403, as GitHub does when a
fork's pull request writes a comment or a job lacks a permission. The repository starts set up
as docs/workflows.md says: ``prod`` exists with the owner as its required reviewer and protected
branches only; GET on an environment answers in GitHub's shape (``protection_rules``,
``deployment_branch_policy``).
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "test-token"
BOT = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}
PROTECTED_PROD = {
    "wait_timer": 0,
    "prevent_self_review": False,
    "reviewers": [{"type": "User", "id": 7}],
    "deployment_branch_policy": {"protected_branches": True, "custom_branch_policies": False},
}


@dataclass
class Recorded:
    method: str
    path: str
    body: Any
    authorization: str


@dataclass
class State:
    requests: list[Recorded] = field(default_factory=list)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    environments: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {"prod": dict(PROTECTED_PROD)}
    )
    policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)
    dispatches: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    # workflow run id -> its review history (GET .../actions/runs/{id}/approvals), in GitHub's
    # shape: [{"state": "approved", "environments": [{"name": ...}], "user": {"login": ...}}]
    approvals: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=lambda: {"alice": 101, "owner": 7})
    teams: dict[str, int] = field(default_factory=lambda: {"acme/reviewers": 555})
    next_id: int = 1000
    # (method, path pattern) the token may not call: answered 403, as GitHub answers a fork's
    # pull-request token that writes a comment, or a job without the permission a call needs
    forbidden: list[tuple[str, str]] = field(default_factory=list)

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def calls(self, method: str, pattern: str = "") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]


def _routes(state: State):
    repo = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"

    def get_repo(m, body, query):
        return 200, {"full_name": f"{m['owner']}/{m['name']}",
                     "owner": {"login": "owner", "id": 7, "type": "User"}}  # fmt: skip

    def get_user(m, body, query):
        uid = state.users.get(m["login"])
        return (200, {"login": m["login"], "id": uid}) if uid else (404, {"message": "Not Found"})

    def get_team(m, body, query):
        tid = state.teams.get(f"{m['org']}/{m['slug']}")
        return (200, {"id": tid}) if tid else (404, {"message": "Not Found"})

    def list_comments(m, body, query):
        comments = state.comments.get(int(m["number"]), [])
        page, per = int(query.get("page", 1)), int(query.get("per_page", 30))
        return 200, comments[(page - 1) * per : page * per]

    def add_comment(m, body, query):
        comment = {"id": state.new_id(), "body": body["body"], "user": dict(BOT)}
        comment["html_url"] = f"https://github.test/pr/{m['number']}#c{comment['id']}"
        state.comments.setdefault(int(m["number"]), []).append(comment)
        return 201, comment

    def edit_comment(m, body, query):
        for comments in state.comments.values():
            for comment in comments:
                if comment["id"] == int(m["id"]):
                    comment["body"] = body["body"]
                    return 200, comment
        return 404, {"message": "Not Found"}

    def list_issues(m, body, query):
        wanted = set(filter(None, query.get("labels", "").split(",")))
        state_ = query.get("state", "open")
        found = [
            issue for issue in state.issues
            if (state_ == "all" or issue["state"] == state_)
            and wanted <= {label["name"] for label in issue["labels"]}
        ]  # fmt: skip
        page, per = int(query.get("page", 1)), int(query.get("per_page", 30))
        return 200, found[(page - 1) * per : page * per]

    def add_issue(m, body, query):
        number = 100 + len(state.issues)  # apart from the pull requests the tests use
        issue = {"number": number, "title": body["title"], "body": body.get("body", ""),
                 "state": "open", "labels": [{"name": n} for n in body.get("labels", [])],
                 "html_url": f"https://github.test/issues/{number}"}  # fmt: skip
        state.issues.append(issue)
        return 201, issue

    def edit_issue(m, body, query):
        for issue in state.issues:
            if issue["number"] == int(m["number"]):
                issue.update({k: v for k, v in body.items() if k in ("title", "body", "state")})
                return 200, issue
        return 404, {"message": "Not Found"}

    def dispatch(m, body, query):
        state.dispatches.append({"workflow": m["workflow"], **body})
        return 204, None

    def put_environment(m, body, query):
        state.environments[m["env"]] = body
        return 200, {"name": m["env"]}

    def get_environment(m, body, query):
        spec = state.environments.get(m["env"])
        if spec is None:
            return 404, {"message": "Not Found"}
        rules = []
        if spec.get("wait_timer"):
            rules.append({"id": 1, "type": "wait_timer", "wait_timer": spec["wait_timer"]})
        if spec.get("reviewers"):
            rules.append({
                "id": 2, "type": "required_reviewers",
                "prevent_self_review": spec.get("prevent_self_review", False),
                "reviewers": [{"type": r["type"], "reviewer": {"id": r["id"]}}
                              for r in spec["reviewers"]],
            })  # fmt: skip
        if spec.get("deployment_branch_policy"):
            rules.append({"id": 3, "type": "branch_policy"})
        return 200, {"name": m["env"], "can_admins_bypass": True, "protection_rules": rules,
                     "deployment_branch_policy": spec.get("deployment_branch_policy")}  # fmt: skip

    def list_policies(m, body, query):
        policies = state.policies.get(m["env"], [])
        return 200, {"total_count": len(policies), "branch_policies": policies}

    def add_policy(m, body, query):
        policy = {"id": state.new_id(), "name": body["name"], "type": body.get("type", "branch")}
        state.policies.setdefault(m["env"], []).append(policy)
        return 200, policy

    def delete_policy(m, body, query):
        kept = [p for p in state.policies.get(m["env"], []) if p["id"] != int(m["id"])]
        state.policies[m["env"]] = kept
        return 204, None

    def add_deployment(m, body, query):
        deployment = {"id": state.new_id(), **body}
        state.deployments.append(deployment)
        return 201, deployment

    def add_status(m, body, query):
        state.statuses.append({"deployment_id": int(m["id"]), **body})
        return 201, {"id": state.new_id(), **body}

    def list_approvals(m, body, query):
        return 200, state.approvals.get(int(m["run"]), [])

    env = repo + r"/environments/(?P<env>[^/]+)"
    return [
        ("GET", repo + r"$", get_repo),
        ("GET", r"/users/(?P<login>[^/]+)$", get_user),
        ("GET", r"/orgs/(?P<org>[^/]+)/teams/(?P<slug>[^/]+)$", get_team),
        ("GET", repo + r"/issues/(?P<number>\d+)/comments$", list_comments),
        ("POST", repo + r"/issues/(?P<number>\d+)/comments$", add_comment),
        ("PATCH", repo + r"/issues/comments/(?P<id>\d+)$", edit_comment),
        ("GET", repo + r"/issues$", list_issues),
        ("POST", repo + r"/issues$", add_issue),
        ("PATCH", repo + r"/issues/(?P<number>\d+)$", edit_issue),
        ("POST", repo + r"/actions/workflows/(?P<workflow>[^/]+)/dispatches$", dispatch),
        ("PUT", env + r"$", put_environment),
        ("GET", env + r"$", get_environment),
        ("GET", env + r"/deployment-branch-policies$", list_policies),
        ("POST", env + r"/deployment-branch-policies$", add_policy),
        ("DELETE", env + r"/deployment-branch-policies/(?P<id>\d+)$", delete_policy),
        ("POST", repo + r"/deployments$", add_deployment),
        ("POST", repo + r"/deployments/(?P<id>\d+)/statuses$", add_status),
        ("GET", repo + r"/actions/runs/(?P<run>\d+)/approvals$", list_approvals),
    ]


class _Handler(BaseHTTPRequestHandler):
    state: State
    routes: list

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _handle(self) -> None:
        path, _, raw_query = self.path.partition("?")
        query = dict(urllib.parse.parse_qsl(raw_query))
        path = urllib.parse.unquote(path)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        auth = self.headers.get("Authorization", "")
        self.state.requests.append(Recorded(self.command, path, body, auth))
        status, answer = 404, {"message": f"no route for {self.command} {path}"}
        if auth != f"Bearer {TOKEN}":
            status, answer = 401, {"message": "Bad credentials"}
        elif any(m == self.command and re.search(p, path) for m, p in self.state.forbidden):
            status, answer = 403, {"message": "Resource not accessible by integration"}
        else:
            for method, pattern, handler in self.routes:
                match = re.match(pattern + "$" if not pattern.endswith("$") else pattern, path)
                if method == self.command and match:
                    status, answer = handler(match.groupdict(), body, query)
                    break
        payload = b"" if answer is None else json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


class GitHubStub:
    """Start with `with GitHubStub() as gh:`; `gh.url` is the API base, `gh.state` what it saw."""

    def __init__(self) -> None:
        self.state = State()
        handler = type("Handler", (_Handler,), {"state": self.state, "routes": _routes(self.state)})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> GitHubStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
