"""`lifecycle init`: from a data file unlike the credit example (a churn table with a yes/no text
target and integer-coded categories) to settings, a contract and DVC-tracked data the pipeline
runs on, with no file edited by hand.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from lifecycle import cli
from lifecycle.gates.contract import load_contract
from lifecycle.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
LIFECYCLE = Path(sys.executable).parent / "lifecycle"
CHURN = Path("data") / "churn.csv"


def churn_table(rows: int = 5000, seed: int = 5) -> pd.DataFrame:
    """Customers who churn ("yes"/"no") after short tenures, high charges, many support calls
    and monthly contracts. plan and region are integer codes; gender has no effect."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 73, rows)
    charges = np.round(rng.uniform(20, 120, rows), 2)
    calls = rng.poisson(1.5, rows)
    plan = rng.choice([1, 2, 3], rows, p=[0.5, 0.3, 0.2])
    contract = rng.choice(["monthly", "annual", "two_year"], rows, p=[0.5, 0.3, 0.2])
    logit = (
        0.5
        - 0.1 * tenure
        + 0.065 * (charges - 70)
        + 1.0 * calls
        + np.select([plan == 1, plan == 3], [0.9, -0.9], 0.0)
        + np.select([contract == "monthly", contract == "two_year"], [1.8, -2.0], 0.0)
        + rng.normal(0, 0.3, rows)
    )
    churned = rng.random(rows) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(1, rows + 1)],
            "tenure_months": tenure,
            "monthly_charges": charges,
            "support_calls": calls,
            "plan": plan,
            "region": rng.integers(1, 6, rows),
            "contract_type": contract,
            "gender": rng.choice(["female", "male"], rows),
            "churned": np.where(churned, "yes", "no"),
        }
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty DVC project (cwd) whose default remote is a folder inside it, with the churn
    table in data/."""
    from dvc.repo import Repo

    root = tmp_path / "project"
    root.mkdir()
    Repo.init(str(root), no_scm=True).close()
    config = "[core]\nno_scm = True\nremote = local\n['remote \"local\"']\nurl = ../dvc-storage\n"
    (root / ".dvc" / "config").write_text(config, encoding="utf-8")  # relative to .dvc/
    monkeypatch.chdir(root)
    CHURN.parent.mkdir()
    churn_table(1500).to_csv(CHURN, index=False)
    return root


def init(capsys, *options: str) -> tuple[int, str, str]:
    code = cli.main(["init", "--data", str(CHURN), "--target", "churned", *options])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_init_writes_settings_and_a_contract_for_the_data(project, capsys):
    code, out, _ = init(capsys, "--protected", "gender")
    assert code == 0, out
    settings = load_settings("params.yaml")
    data = settings.data
    assert (data.target, data.positive_label, data.id_column) == ("churned", "yes", "customer_id")
    assert data.features.numeric == [
        "tenure_months", "monthly_charges", "support_calls", "plan", "region",
    ]  # fmt: skip
    assert data.features.categorical == ["contract_type"]
    assert data.protected_attributes == ["gender"]
    assert settings.model.name == "churn"
    assert not settings.gates.model.invariant_features and not settings.gates.model.directional
    contract = load_contract(settings)
    assert contract.columns["churned"].allowed == ["no", "yes"]
    assert contract.columns["customer_id"].unique
    tenure = contract.columns["tenure_months"]
    assert tenure.min == 0 and tenure.max >= 72
    assert "'plan': 3 distinct integers, listed as numeric" in out
    assert "git add src/lifecycle/contracts/churn.yaml params.yaml data.dvc dvc-storage" in out
    assert yaml.safe_load(Path("data.dvc").read_text())["outs"][0]["path"] == "data"
    assert any((project / "dvc-storage").rglob("*.dir")), "the data was not pushed"


def test_a_second_run_changes_nothing(project, capsys):
    assert init(capsys)[0] == 0
    written = {p: p.read_bytes() for p in (Path("params.yaml"), Path("data.dvc"))}
    code, out, _ = init(capsys)
    assert code == 0
    assert out.count("unchanged") == 4 and "Nothing changed" in out
    assert written == {p: p.read_bytes() for p in written}


def test_existing_settings_are_replaced_only_with_force(project, capsys):
    Path("params.yaml").write_text("serving: {port: 4000}\n", encoding="utf-8")
    code, _, err = init(capsys)
    assert code == 2
    assert "params.yaml: already there with other content" in err and "--force" in err
    assert not Path("data.dvc").exists() and not Path("src").exists(), "something was written"
    assert Path("params.yaml").read_text(encoding="utf-8") == "serving: {port: 4000}\n"
    code, out, _ = init(capsys, "--force")
    assert code == 0 and "replaced   params.yaml" in out


def test_settings_that_do_not_depend_on_the_data_are_kept(project, capsys):
    old = {
        "serving": {"port": 4000},
        "gates": {
            "model": {
                "invariant_features": ["marital_status"],
                "directional": {"age": "increasing"},
            },
            "bias": {"per_attribute": {"sex": {}, "gender": {"demographic_parity_ratio_min": 0.7}}},
        },
    }
    Path("params.yaml").write_text(yaml.safe_dump(old), encoding="utf-8")
    code, out, _ = init(capsys, "--force", "--protected", "gender")
    assert code == 0, out
    settings = load_settings("params.yaml")
    assert settings.serving.port == 4000
    assert not settings.gates.model.invariant_features and not settings.gates.model.directional
    assert list(settings.gates.bias.per_attribute) == ["gender"]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (("--task", "regression"), "task 'regression' is not supported yet"),
        (("--target", "monthly_charges"), "regression task, which is not supported yet"),
        (("--target", "churn"), "column(s) churn not in the data; its columns: customer_id"),
        (("--positive-label", "maybe"), "choose one of no, yes"),
        (("--protected", "churned"), "churned named twice"),
        (("--target", "contract_type"), "has 3 distinct value(s)"),
    ],
)
def test_impossible_requests_are_usage_errors(project, capsys, options, expected):
    code, _, err = init(capsys, *options)
    assert code == 2
    assert expected in err
    assert not Path("params.yaml").exists()


def test_the_positive_label_can_be_chosen(project, capsys):
    assert init(capsys, "--positive-label", "no")[0] == 0
    assert load_settings("params.yaml").data.positive_label == "no"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda df: df.assign(active=df["plan"] > 1), "'active': holds true/false"),
        (lambda df: df.assign(account=df["customer_id"] + "-x"), "name the identifier"),
        (lambda df: df.assign(region=df["region"].astype("int32")), "dtype int32"),
    ],
)
def test_columns_the_template_cannot_use_are_named(project, capsys, change, expected):
    change(pd.read_csv(CHURN)).to_parquet("data/churn.parquet")
    CHURN.unlink()
    code = cli.main(["init", "--data", "data/churn.parquet", "--target", "churned"])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and "Traceback" not in err


# --- the README's steps in a clone of the repository -----------------------------------------


def readme_steps() -> list[str]:
    """The command lines of the bash block in README's 'Use your own data and model'."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Use your own data and model", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "the section shows no bash block"
    lines = [line.split("  #")[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line]


def as_run_here(line: str) -> list[str]:
    """The README's command as this test runs it: lifecycle from this environment, and the
    pipeline without build and loadtest (tests/service covers them)."""
    words = shlex.split(line)
    if words[0] == ".venv/bin/lifecycle":
        return [str(LIFECYCLE), *words[1:]]
    if words == ["make", "pipeline"]:
        return [str(LIFECYCLE), "pipeline", "--skip", "build,loadtest"]
    assert words[0] == "git", f"unexpected command in the README: {line}"
    return words


@pytest.mark.slow
def test_the_readme_steps_adapt_a_clone_to_other_data(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    (clone / "data").mkdir()
    churn_table().to_csv(clone / CHURN, index=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env |= {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    for line in readme_steps():
        done = subprocess.run(
            as_run_here(line), cwd=clone, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"{line}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        assert "Traceback" not in done.stderr
    committed = subprocess.run(
        ["git", "show", "--name-only", "--format=", "HEAD"],
        cwd=clone, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert {"params.yaml", "data.dvc", "src/lifecycle/contracts/churn.yaml"} <= set(committed)
    assert all(
        p in {"params.yaml", "data.dvc", "src/lifecycle/contracts/churn.yaml"}
        or p.startswith("dvc-storage/")
        for p in committed
    ), committed
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True, check=True
    )
    assert status.stdout == "", "the pipeline left files git would see"
