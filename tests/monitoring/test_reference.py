"""The reference snapshot by its DVC version: the workspace's, one from git history, or a clear
error naming the version looked for."""

import shutil
import subprocess

import pytest
import yaml

from fixtures import write_params
from lifecycle.data.dataset import write_table
from lifecycle.data.dvc import data_version
from lifecycle.data.generator import generate
from lifecycle.errors import DataError
from lifecycle.monitoring.reference import load_reference, same_version
from lifecycle.settings import load_settings


def git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@pytest.fixture
def versioned(tmp_path, monkeypatch):
    """A git + DVC repository whose data.dvc recorded two versions: (settings, old, new)."""
    from dvc.repo import Repo

    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    git(root, "config", "user.email", "ci@example.com")
    git(root, "config", "user.name", "ci")
    monkeypatch.chdir(root)
    repo = Repo.init(str(root))
    versions = []
    for seed in (1, 2):
        write_table(generate(300, seed=seed), root / "data" / "credit.parquet")
        repo.add("data")
        git(root, "add", "-A")
        git(root, "commit", "-qm", f"data {seed}")
        versions.append(yaml.safe_load((root / "data.dvc").read_text())["outs"][0]["md5"])
    params = write_params(root / "params.yaml", root / "data" / "credit.parquet")
    return load_settings(params), *versions


def test_an_older_version_is_read_from_the_history(versioned):
    settings, old, new = versioned
    assert data_version(settings) == new

    reference = load_reference(settings, old.removesuffix(".dir"))

    assert reference.version == old.removesuffix(".dir")
    assert reference.frame.equals(generate(300, seed=1))
    assert load_reference(settings).frame.equals(generate(300, seed=2))


def test_a_version_that_cannot_be_fetched_names_it_and_its_commit(versioned):
    settings, old, _ = versioned
    shutil.rmtree(settings.data.path.parents[1] / ".dvc" / "cache")

    with pytest.raises(DataError, match=f"reference data version {old} \\(recorded by commit"):
        load_reference(settings, old)


def test_a_version_no_commit_records_is_named(versioned):
    settings, _, _ = versioned

    with pytest.raises(DataError, match="reference data version 0bad not found: no commit"):
        load_reference(settings, "0bad")


def test_versions_compare_with_or_without_the_dir_suffix():
    assert same_version("ABC.dir", "abc") and same_version("md5:abc", "abc.dir")
    assert not same_version("abc", "abd")
