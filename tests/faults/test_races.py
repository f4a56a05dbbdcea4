"""Concurrent moves of one alias, from two processes released at the same instant, 20 trials.

Every trial must end with the alias and its history in agreement, every recorded move following
the one before it (no lost update, no two entries "from" the same version), one entry per move
that said it changed something, and each command either done (exit 0) or refused cleanly: the
other holds the alias's lease, or (a rollback, which redeploys before its move) the alias moved
while it was redeploying.
"""

import multiprocessing
import time

import pytest
from fault_helpers import finish, inconsistencies, start_cli

from lifecycle.registry import aliases

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]
TRIALS = 20
REFUSALS = ("holds the lease", "while rolling back")


def race(registry, settings, tmp_path, *commands):
    go = multiprocessing.get_context("fork").Event()
    started = time.monotonic()
    children = []
    for number, argv in enumerate(commands):
        out = tmp_path / f"race-{settings.model.name}-{number}.txt"
        argv = [argv[0], "--params", str(settings.source), *argv[1:]]
        children.append((start_cli(argv, registry.url, out, go), out))
    go.set()
    return [finish(child, out, started) for child, out in children]


SCENARIOS = [  # (prod moves made before, the two commands released together)
    (("1",), (["promote", "--env", "prod", "--version", "2"],
              ["promote", "--env", "prod", "--version", "3"])),
    (("1", "2"), (["promote", "--env", "prod", "--version", "3"], ["rollback", "--env", "prod"])),
]  # fmt: skip


def test_concurrent_moves_never_disagree(registry, small_model, tmp_path):
    """Two promotions at once, then a promotion racing a rollback, alternately."""
    bad = []
    for trial in range(TRIALS):
        promoted, commands = SCENARIOS[trial % len(SCENARIOS)]
        settings = small_model(3, promoted)
        results = race(registry, settings, tmp_path, *commands)
        for done in results:
            assert done.code in (0, 2) and "Traceback" not in done.output, done.output
            if done.code == 2:
                assert any(refusal in done.output for refusal in REFUSALS), done.output
                assert "nothing was changed" in done.output, done.output
        changed = sum("nothing changed" not in d.output for d in results if d.code == 0)
        entries = aliases.history(settings, "prod")
        problems = inconsistencies(settings)
        if len(entries) != len(promoted) + changed:
            problems.append(f"{changed} moves but {len(entries) - len(promoted)} new entries")
        if problems:
            bad.append((trial, problems, [d.output for d in results]))
    assert bad == [], f"{len(bad)} of {TRIALS} trials inconsistent: {bad[:3]}"
