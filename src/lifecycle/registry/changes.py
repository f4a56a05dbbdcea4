"""What differs between this checkout and the version an environment serves, as recorded on it.

Training records on its run, and registering copies onto the version: the data version (the md5
in data.dvc), the settings file's sha256, the lifecycle package's sha256 (its code) and uv.lock's
sha256 (the locked packages). Retraining on the same four gives the same model again, so the
retraining workflow asks here first and skips, saying why, when none of them changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle.data.dvc import recorded_version
from lifecycle.registry import aliases, models, tracking
from lifecycle.settings import Settings

UNKNOWN = "unknown"
# what is compared: (name, the version's tag)
RECORDED = (
    ("data", "data.version"),
    ("settings", "params.sha256"),
    ("code", "code.sha256"),
    ("packages", "uv_lock.sha256"),
)


@dataclass(frozen=True)
class Difference:
    what: str
    served: str
    here: str

    @property
    def changed(self) -> bool:
        """Changed unless both are known and equal (an unrecorded value proves nothing)."""
        return UNKNOWN in (self.served, self.here) or self.served != self.here


@dataclass(frozen=True)
class Changes:
    environment: str
    version: str | None  # the version the environment's alias points at, if any
    differences: tuple[Difference, ...]

    @property
    def changed(self) -> bool:
        return self.version is None or any(d.changed for d in self.differences)

    def summary(self) -> str:
        """One line: what changed, or why a retraining would give the same model."""
        if self.version is None:
            return f"{self.environment} serves no version yet: there is something to train"
        changed = [d.what for d in self.differences if d.changed]
        if changed:
            return f"changed since version {self.version} ({self.environment}): " + ", ".join(
                changed
            )
        return (
            f"nothing changed since version {self.version} ({self.environment}): same data, "
            "settings, code and locked packages, so retraining would give the same model"
        )

    def markdown(self) -> str:
        lines = [
            f"### Changes since {self.environment}'s version", "", self.summary(), "",
            "| | version " + (self.version or "-") + " | this checkout | |",
            "|---|---|---|---|",
        ]  # fmt: skip
        for d in self.differences:
            mark = "changed" if d.changed else "same"
            lines.append(f"| {d.what} | `{_short(d.served)}` | `{_short(d.here)}` | {mark} |")
        return "\n".join(lines)


def compare(settings: Settings, environment: str) -> Changes:
    """This checkout's data, settings, code and lock file against the environment's version."""
    alias = aliases.alias_for(settings, environment)
    model = models.find_registered_model(settings)
    number = None if model is None else model.aliases.get(alias)
    served = {} if number is None else models.version_in(model, str(number)).tags
    here = checkout(settings)
    differences = tuple(
        Difference(what, served.get(tag) or UNKNOWN, here[tag]) for what, tag in RECORDED
    )
    return Changes(environment, None if number is None else str(number), differences)


def checkout(settings: Settings) -> dict[str, str]:
    """The recorded values of this checkout (what training here would record)."""
    return {
        "data.version": recorded_version(settings) or UNKNOWN,
        "params.sha256": tracking.file_sha256(settings.source),
        "code.sha256": tracking.code_sha256(),
        "uv_lock.sha256": tracking.file_sha256(tracking.lock_file(settings)),
    }


def _short(value: str) -> str:
    return value if value == UNKNOWN or len(value) <= 16 else value[:12] + "…"
