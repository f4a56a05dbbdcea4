"""Verb `init`: adapt the template to a data file in one command.

It profiles the data, writes params.yaml and the data contract for it, puts the data under DVC
(``data/``, tracked by ``data.dvc`` and pushed to the default remote) and prints what to commit.
Nothing is replaced without --force, and a second run with the same inputs changes nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lifecycle.data.profile import Profile

HELP = "Adapt the template to your data: write params.yaml and the contract, track it with DVC."
DATA_FOLDER = Path("data")  # tracked as a whole by data.dvc
IN_REPO_REMOTE = Path("dvc-storage")  # the DVC remote committed with the repository


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="a .parquet or .csv file")
    parser.add_argument("--target", required=True, help="the column to predict")
    parser.add_argument(
        "--task",
        choices=("classification", "regression"),
        default="classification",
        help="classification (binary; the default) or regression (not supported yet)",
    )
    parser.add_argument(
        "--positive-label", help="the target value that counts as positive (default: the rarer)"
    )
    parser.add_argument(
        "--protected",
        default="",
        help="comma-separated protected attributes: checked by the bias gate, never features",
    )
    parser.add_argument(
        "--id-column", help="a unique row identifier, never a feature (default: found if any)"
    )
    parser.add_argument(
        "--model-name", help="the registered model's name (default: from the file's name)"
    )
    parser.add_argument(
        "--force", action="store_true", help="replace params.yaml, the contract or the data"
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle.data import dataset, dvc, profile, scaffold
    from lifecycle.settings import read_yaml

    root = args.params.parent
    frame = dataset.read_table(args.data, hint="check the path given to --data")
    data_path = DATA_FOLDER / args.data.name
    found = profile.profile(
        frame,
        data_path,
        args.target,
        task=args.task,
        positive_label=args.positive_label,
        protected=tuple(c.strip() for c in args.protected.split(",") if c.strip()),
        id_column=args.id_column,
    )
    name = args.model_name or profile.model_name(args.data)
    contract = scaffold.CONTRACTS / f"{name}.yaml"
    base = read_yaml(args.params) if args.params.is_file() else {}
    base = base if isinstance(base, dict) else {}  # not settings: replaced with --force
    params = scaffold.params_yaml(found, name, contract, base, args.params)
    files = {
        root / data_path: args.data,
        root / contract: scaffold.contract_yaml(found),
        args.params: params,
    }
    states = scaffold.plan(files, force=args.force)  # refuses before anything is written
    data_file = root / data_path
    if states[data_file] != "unchanged":
        scaffold.write(data_file, args.data)
    pointer, changed = dvc.track(root / DATA_FOLDER)  # the data is tracked before it is named
    for path, content in files.items():
        if path != data_file and states[path] != "unchanged":
            scaffold.write(path, content)
    states[pointer] = "updated" if changed else "unchanged"
    _report(found, root, states)
    return 0


def _report(found: Profile, root: Path, states: dict[Path, str]) -> None:
    features = f"{len(found.numeric)} numeric and {len(found.categorical)} categorical feature(s)"
    print(
        f"{found.path}: {found.rows:,} rows; {features}; target '{found.target}' (positive "
        f"{found.positive_label!r}, {found.positive_share:.0%} of rows)"
        + (f"; id '{found.id_column}'" if found.id_column else "")
    )
    for path, state in states.items():
        print(f"  {state:<10} {path}")
    for note in found.notes:
        print(f"  note: {note}")
    if all(state == "unchanged" for state in states.values()):
        print("Nothing changed: the files already match this data.")
        return
    commit = [str(p.relative_to(root)) for p in states if p.parent != root / DATA_FOLDER]
    if (root / IN_REPO_REMOTE).is_dir():
        commit.append(str(IN_REPO_REMOTE))
    print(
        "Review the files above, then commit them:\n"
        f"  git add {' '.join(commit)}\n"
        f'  git commit -m "Use {found.path}"\n'
        "and run the lifecycle on them: make pipeline"
    )
