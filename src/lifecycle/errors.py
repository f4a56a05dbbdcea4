"""Domain errors. Each message says what is wrong and how to fix it.

They are caught only at the CLI boundary (``lifecycle.cli``), which maps them to exit codes:
2 for usage, config or data errors, 1 for a failed gate. Anything else keeps its traceback.
"""

from __future__ import annotations


class LifecycleError(Exception):
    """Base of every expected problem. ``exit_code`` is what the CLI returns."""

    exit_code = 2


class UsageError(LifecycleError):
    """The command line asks for something that cannot be done."""


class ConfigError(LifecycleError):
    """params.yaml (or another settings file) is wrong: names the file and the key."""


class DataError(LifecycleError):
    """The data is missing, unreadable or does not match the settings: names the column."""


class RegistryError(LifecycleError):
    """The model registry lacks what was asked for (a version, an alias, a model)."""


class GateFailed(LifecycleError):
    """An enforced gate failed. The message names the gate and why."""

    exit_code = 1
