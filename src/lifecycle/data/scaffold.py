"""The files `lifecycle init` writes for a profiled dataset: params.yaml, the data contract and
the data file's copy under data/.

params.yaml keeps what does not depend on the data (the current file's serving, environments,
estimator, thresholds) and replaces every part that does, so no setting names a column of
other data. A file is written only when it changes, and replaced only when asked (``force``).
"""

from __future__ import annotations

import copy
import filecmp
import os
import shutil
from pathlib import Path
from typing import Any

import yaml

from lifecycle.data.profile import Profile
from lifecycle.errors import UsageError
from lifecycle.settings import DataGate, ModelGate, parse_settings, parse_yaml

WIDTH = 90  # PyYAML wraps near this width; indentation and long words may pass it
CONTRACTS = DataGate.model_fields["contract"].default.parent  # beside the example's contract
PARAMS_HEADER = """\
# The single source of settings, written by `lifecycle init` from {path}: review it, then
# commit it. Read once into typed settings (src/lifecycle/settings.py); unknown keys are errors.
# Every key is described in README.md ("Settings: params.yaml") and docs/gates.md.
"""
CONTRACT_HEADER = """\
# The data contract for {path}, written by `lifecycle init` from its {rows:,} rows: review it,
# then commit it. `lifecycle validate` turns it into Great Expectations suites; every batch must
# match it, the training data as much as any new one.
#
# Per column: type (int64 | float64 | str); max_null_share (twice the share seen, rounded up;
# none seen: none allowed); min and max (the 1st-99th percentile span widened by its width on
# each side, never narrower than the data); allowed (the categories seen); unique (the id).
# Tighten what you know better: drift has its own gate, this one catches broken data.

"""
EXAMPLES_HELP = """
# Hand-picked rows any acceptable model must get right, the model gate's minimum functionality
# test: P({label}) above 0.5 when "positive", below when "negative". Add a few cases you are
# sure of, each with every feature:
#   - name: a clear case
#     expect: positive
#     row: {{{shown}, ...}}
"""


def params_yaml(
    found: Profile, name: str, contract: Path, base: dict[str, Any], source: Path
) -> str:
    """params.yaml for the data: ``base`` (the current settings, or {}) with every part that
    depends on the data replaced. Checked as load_settings checks it, before it is written."""
    raw = copy.deepcopy(base)
    split = raw.get("data", {}).get("split") if isinstance(raw.get("data"), dict) else None
    raw["data"] = _data_section(found) | ({"split": split} if split is not None else {})
    model = raw.setdefault("model", {})
    model["name"] = name
    model["card"] = _card(found)
    _adapt_gates(raw.setdefault("gates", {}), found, contract)
    text = PARAMS_HEADER.format(path=found.path) + "\n".join(
        _dump({key: value}) for key, value in raw.items()
    )
    parse_settings(parse_yaml(text, source), source)
    return text


def _data_section(found: Profile) -> dict[str, Any]:
    return {
        "path": found.path.as_posix(),
        "target": found.target,
        "positive_label": found.positive_label,
        **({"id_column": found.id_column} if found.id_column else {}),
        "features": {"numeric": found.numeric, "categorical": found.categorical},
        "protected_attributes": found.protected,
    }


def _adapt_gates(gates: dict[str, Any], found: Profile, contract: Path) -> None:
    """Point the data gate at the new contract and drop every setting naming another column."""
    data = gates.setdefault("data", {})
    data["contract"] = contract.as_posix()
    least = data.get("min_rows", DataGate.model_fields["min_rows"].default)
    data["min_rows"] = min(least, found.rows)  # the training data must pass its own gate
    model = gates.setdefault("model", {})
    model["thresholds"] = ModelGate.model_fields["thresholds"].default
    model["invariant_features"] = []
    model["directional"] = {}
    per_attribute = gates.get("bias", {}).get("per_attribute")
    if per_attribute is not None:
        gates["bias"]["per_attribute"] = {
            k: v for k, v in per_attribute.items() if k in found.protected
        }


def _card(found: Profile) -> dict[str, Any]:
    label = f"{found.target} = {found.positive_label!r}"
    return {
        "intended_use": (
            f"Scores the probability that {label} ({found.positive_share:.0%} of the training "
            "rows). Not stated yet: say who uses it, for what, and what it must not decide."
        ),
        "limitations": [
            f"Trained on {found.path} ({found.rows:,} rows); holds only while new rows resemble "
            "them: `lifecycle drift` watches that.",
        ],
    }


def contract_yaml(found: Profile) -> str:
    shown = ", ".join(f"{c}: ..." for c in [*found.numeric, *found.categorical][:3])
    label = f"{found.target} = {found.positive_label!r}"
    return (
        CONTRACT_HEADER.format(path=found.path, rows=found.rows)
        + _dump({"extra_columns": "forbid"})
        + "\n"
        + _dump({"columns": found.rules})
        + EXAMPLES_HELP.format(label=label, shown=shown)
        + _dump({"examples": []})
    )


def _dump(section: dict[str, Any]) -> str:
    """Block style, with lists and mappings of plain values on one line (PyYAML's flow leaves);
    PyYAML quotes yes, no, on and off, so every YAML reader keeps them text."""
    nested = any(isinstance(value, dict | list) for value in section.values())
    return str(
        yaml.safe_dump(
            section,
            sort_keys=False,
            default_flow_style=None if nested else False,
            width=WIDTH,
            allow_unicode=True,
        )
    )


def plan(files: dict[Path, str | Path], *, force: bool) -> dict[Path, str]:
    """What writing ``files`` (path -> its text, or the file to copy there) would do to each:
    "created", "replaced" or "unchanged". A file with other content is replaced only with
    ``force``: else a UsageError names every such file, before anything is written."""
    states = {path: _state(path, content) for path, content in files.items()}
    refused = [str(path) for path, state in states.items() if state == "replaced"]
    if refused and not force:
        raise UsageError(
            f"{', '.join(refused)}: already there with other content; run again with --force "
            "to replace (git keeps the committed version: review with `git diff`)"
        )
    return states


def _state(path: Path, content: str | Path) -> str:
    if not path.exists():
        return "created"
    if isinstance(content, Path):
        same = path.resolve() == content.resolve() or filecmp.cmp(path, content, shallow=False)
    else:
        same = path.read_text(encoding="utf-8") == content
    return "unchanged" if same else "replaced"


def write(path: Path, content: str | Path) -> None:
    """Write the text (or copy the file) atomically: a temporary file beside, then a rename."""
    if isinstance(content, Path) and path.resolve() == content.resolve():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if isinstance(content, Path):
            shutil.copyfile(content, temporary)
        else:
            temporary.write_text(content, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
