"""DORA metrics for models, from the registry's recorded history of promotions and rollbacks.

For one environment (default prod) over the last ``days``:

- **deployment frequency**: promotions into the environment, per week;
- **lead time**: from the commit that trained the version (its git commit's time, when this
  checkout knows the commit; else the training run's start) to its promotion; the median;
- **change failure rate**: the share of promotions whose next move of the alias was a rollback;
- **time to recover**: from such a failed promotion to its rollback; the median.
"""

from __future__ import annotations

import statistics
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

Origin = Callable[[dict[str, Any]], tuple[datetime | None, str]]


@dataclass(frozen=True)
class Deployment:
    at: str
    version: str
    lead_time_hours: float | None
    lead_time_from: str  # "commit", "run start" or "" (unknown)
    rolled_back: bool
    recovery_hours: float | None


@dataclass(frozen=True)
class Dora:
    environment: str
    days: float
    since: str
    deployments: tuple[Deployment, ...]
    rollbacks: int

    @property
    def per_week(self) -> float:
        return len(self.deployments) / self.days * 7

    @property
    def lead_time_hours(self) -> float | None:
        return _median([d.lead_time_hours for d in self.deployments])

    @property
    def change_failure_rate(self) -> float | None:
        if not self.deployments:
            return None
        return sum(d.rolled_back for d in self.deployments) / len(self.deployments)

    @property
    def recovery_hours(self) -> float | None:
        return _median([d.recovery_hours for d in self.deployments])

    def to_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "days": self.days,
            "since": self.since,
            "deployments": len(self.deployments),
            "deployments_per_week": round(self.per_week, 4),
            "lead_time_hours_median": self.lead_time_hours,
            "change_failure_rate": self.change_failure_rate,
            "failed_deployments": sum(d.rolled_back for d in self.deployments),
            "time_to_recover_hours_median": self.recovery_hours,
            "rollbacks": self.rollbacks,
            "details": [asdict(d) for d in self.deployments],
        }


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def compute(
    entries: list[dict[str, Any]],
    environment: str = "prod",
    days: float = 30,
    origin: Origin | None = None,
    now: datetime | None = None,
) -> Dora:
    """The metrics from history entries (oldest first, as ``registry.history`` gives them)."""
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    moves = [e for e in entries if e.get("environment") == environment]
    deployments, rollbacks = [], 0
    for i, entry in enumerate(moves):
        at = parse_time(entry["at"])
        if at < since:
            continue
        if entry.get("action") == "rollback":
            rollbacks += 1
        elif entry.get("action") == "promote":
            after = next((e for e in moves[i + 1 :] if e.get("alias") == entry.get("alias")), None)
            deployments.append(_deployment(entry, at, after, origin))
    return Dora(
        environment, days, since.isoformat(timespec="seconds"), tuple(deployments), rollbacks
    )


def _deployment(
    entry: dict[str, Any], at: datetime, after: dict[str, Any] | None, origin: Origin | None
) -> Deployment:
    started, source = origin(entry) if origin else (None, "")
    lead = (at - started).total_seconds() / 3600 if started else None
    failed = after is not None and after.get("action") == "rollback"
    recovery = None
    if after is not None and failed:
        recovery = (parse_time(after["at"]) - at).total_seconds() / 3600
    return Deployment(entry["at"], str(entry.get("to")), lead, source, failed, recovery)


def registry_origin(entry: dict[str, Any]) -> tuple[datetime | None, str]:
    """When the change began: its git commit's time if known here, else its run's start."""
    commit = entry.get("git_commit")
    if commit and commit != "unknown":
        found = _commit_time(commit)
        if found is not None:
            return found, "commit"
    run_id = entry.get("run_id")
    if run_id:
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        try:
            start = MlflowClient().get_run(run_id).info.start_time
        except MlflowException:
            return None, ""
        return datetime.fromtimestamp(start / 1000, UTC), "run start"
    return None, ""


def _commit_time(commit: str) -> datetime | None:
    try:
        done = subprocess.run(
            ["git", "show", "-s", "--format=%cI", commit],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = done.stdout.strip()
    return parse_time(text) if done.returncode == 0 and text else None


def duration(hours: float | None) -> str:
    if hours is None:
        return "n/a"
    if hours < 1 / 60:
        return f"{hours * 3600:.0f} s"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def to_markdown(dora: Dora) -> str:
    count = len(dora.deployments)
    failed = sum(d.rolled_back for d in dora.deployments)
    rate = dora.change_failure_rate
    sources = sorted({d.lead_time_from for d in dora.deployments if d.lead_time_from})
    rows = [
        ("deployment frequency", f"{count} promotion(s), {dora.per_week:.2f} per week"),
        (
            "lead time (commit to deploy), median",
            f"{duration(dora.lead_time_hours)}"
            + (f" (from {', '.join(sources)})" if sources else ""),
        ),
        (
            "change failure rate",
            "n/a" if rate is None else f"{rate:.0%} ({failed} of {count} rolled back)",
        ),
        ("time to recover, median", duration(dora.recovery_hours)),
        ("rollbacks", str(dora.rollbacks)),
    ]
    lines = [
        f"## DORA metrics: {dora.environment}, last {dora.days:g} days",
        "",
        "| metric | value |",
        "|---|---|",
        *(f"| {m} | {v} |" for m, v in rows),
    ]
    if dora.deployments:
        lines += [
            "",
            "| promoted at | version | lead time | rolled back after |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {d.at} | {d.version} | {duration(d.lead_time_hours)} | "
            f"{duration(d.recovery_hours) if d.rolled_back else 'n/a'} |"
            for d in dora.deployments
        ]
    return "\n".join(lines) + "\n"
