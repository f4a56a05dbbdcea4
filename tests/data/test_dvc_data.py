"""Versioned data: the shipped remote holds the data, `pull` restores it offline, errors guide."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from lifecycle import cli
from lifecycle.data.dataset import write_table
from lifecycle.data.dvc import data_version
from lifecycle.data.generator import generate
from lifecycle.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
# What a fresh clone holds of DVC: everything the pull needs, all committed to git.
DVC_FILES = ("data.dvc", ".dvc/config", ".dvc/.gitignore", ".dvcignore", "dvc-storage")


def _git(*args, cwd):
    subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_dvc_config_is_offline_and_relative():
    from configobj import ConfigObj  # DVC's own config format

    config = ConfigObj(str(ROOT / ".dvc" / "config"))
    assert config["core"]["analytics"] == "false"
    remote = config[f'remote "{config["core"]["remote"]}"']["url"]
    assert not Path(remote).is_absolute() and "://" not in remote
    assert (ROOT / ".dvc" / remote).resolve() == ROOT / "dvc-storage"


def test_the_shipped_data_is_in_the_bundled_remote():
    """About the repository's own example (whatever data it holds): its remote has every file."""
    out = yaml.safe_load((ROOT / "data.dvc").read_text())["outs"][0]
    assert out["path"] == "data"
    storage = ROOT / "dvc-storage" / "files" / "md5"
    manifest = storage / out["md5"][:2] / out["md5"][2:]
    entries = json.loads(manifest.read_text())
    data_file = load_settings(ROOT / "params.yaml").data.path
    assert data_file.relative_to(out["path"]).as_posix() in {e["relpath"] for e in entries}
    for entry in entries:
        assert (storage / entry["md5"][:2] / entry["md5"][2:]).is_file(), entry


def test_the_dvc_files_are_not_git_ignored():
    ignored = subprocess.run(
        ["git", "check-ignore", *DVC_FILES], cwd=ROOT, capture_output=True, text=True
    )
    assert ignored.stdout == "", ignored.stdout


def test_pull_works_offline_in_a_fresh_clone(tmp_path, monkeypatch, capsys):
    """About the repository's own example: a fresh clone pulls its data from the bundled remote."""
    origin, clone = tmp_path / "origin", tmp_path / "clone"
    for name in (*DVC_FILES, "params.yaml"):
        source, target = ROOT / name, origin / name
        target.parent.mkdir(parents=True, exist_ok=True)
        copy = shutil.copytree if source.is_dir() else shutil.copy2
        copy(source, target)
    _git("init", "-q", cwd=origin)
    _git("add", "-A", cwd=origin)
    _git("commit", "-qm", "template", cwd=origin)
    _git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    monkeypatch.chdir(clone)
    assert cli.main(["pull"]) == 0
    out = capsys.readouterr().out
    md5 = yaml.safe_load(Path("data.dvc").read_text())["outs"][0]["md5"]
    assert f"version {md5}" in out
    settings = load_settings("params.yaml")
    assert data_version(settings) == md5
    assert cli.main(["describe"]) == 0
    assert "rows:" in capsys.readouterr().out


@pytest.fixture(scope="module")
def dvc_template(tmp_path_factory):
    """A small DVC project made by DVC itself: data/ tracked by data.dvc, pushed to storage/."""
    from dvc.repo import Repo

    from lifecycle.data.dvc import route_dvc_logs

    route_dvc_logs()
    root = tmp_path_factory.mktemp("dvc") / "project"
    write_table(generate(300, seed=1), root / "data" / "credit.parquet")
    Repo.init(str(root), no_scm=True).close()
    (root / ".dvc" / "config").write_text(
        "[core]\n    no_scm = True\n    analytics = false\n    remote = local\n"
        "['remote \"local\"']\n    url = ../storage\n"
    )
    with Repo(str(root)) as repo:
        repo.add(str(root / "data"))
        repo.push()
    return root


@pytest.fixture
def project(dvc_template, tmp_path, monkeypatch, params_file):
    """A copy of the template with its data and cache gone, as after a clone; cwd inside."""
    root = tmp_path / "project"
    shutil.copytree(dvc_template, root)
    shutil.rmtree(root / "data")
    shutil.rmtree(root / ".dvc" / "cache", ignore_errors=True)
    shutil.copy(params_file({"data": {"path": "data/credit.parquet"}}), root / "params.yaml")
    monkeypatch.chdir(root)
    return root


def pull(capsys, *extra):
    code = cli.main(["pull", *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_pull_restores_the_tracked_version(project, capsys):
    code, out, err = pull(capsys)
    assert code == 0 and "updated data/" in out, err
    md5 = yaml.safe_load((project / "data.dvc").read_text())["outs"][0]["md5"]
    assert data_version(load_settings("params.yaml")) == md5
    code, out, _ = pull(capsys)
    assert code == 0 and "already up to date" in out


def test_a_changed_tracked_file_is_refused_not_versioned_another_way(project, capsys):
    from lifecycle.errors import DataError

    pull(capsys)
    settings = load_settings("params.yaml")
    write_table(generate(50, seed=9), settings.data.path)
    with pytest.raises(DataError, match=r"not the version data.dvc records.*pull --force"):
        data_version(settings)
    code, _, err = pull(capsys)
    assert code == 2 and "local changes" in err and "--force" in err
    code, _, _ = pull(capsys, "--force")
    md5 = yaml.safe_load((project / "data.dvc").read_text())["outs"][0]["md5"]
    assert code == 0 and data_version(settings) == md5


def test_an_untracked_file_is_versioned_by_its_content(project, tmp_path):
    other = write_table(generate(50, seed=9), tmp_path / "elsewhere" / "batch.parquet")
    assert data_version(load_settings("params.yaml"), other).startswith("sha256:")


@pytest.mark.faults
def test_a_corrupted_remote_object_is_refused_and_nothing_uses_it(project, capsys):
    out = yaml.safe_load((project / "data.dvc").read_text())["outs"][0]
    storage = project / "storage" / "files" / "md5"
    [entry] = json.loads((storage / out["md5"][:2] / out["md5"][2:]).read_text())
    obj = storage / entry["md5"][:2] / entry["md5"][2:]
    data = bytearray(obj.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one byte
    obj.chmod(0o644)  # DVC keeps objects read-only
    obj.write_bytes(bytes(data))

    code, _, err = pull(capsys)

    assert code == 2 and "corrupted" in err, err
    assert f"files/md5/{entry['md5'][:2]}/{entry['md5'][2:]}" in err
    assert not (project / "data" / "credit.parquet").exists()
    for verb in ("validate", "train"):
        assert cli.main([verb]) == 2
        assert "not found" in capsys.readouterr().err
    obj.write_bytes(bytes(data[: len(data) // 2]) + bytes([data[len(data) // 2] ^ 0x01])
                    + bytes(data[len(data) // 2 + 1 :]))  # fmt: skip
    code, out_text, err = pull(capsys)
    assert code == 0 and f"version {out['md5']}" in out_text, err


def test_a_remote_without_the_data_says_what_to_do(project, capsys):
    shutil.rmtree(project / "storage")
    code, _, err = pull(capsys)
    assert code == 2
    assert "remote lacks this version" in err and "dvc push" in err
    assert not (project / "data" / "credit.parquet").exists()


def test_no_dvc_file_says_what_to_do(project, capsys):
    (project / "data.dvc").unlink()
    code, _, err = pull(capsys)
    assert code == 2 and "no .dvc file tracks data/credit.parquet" in err
    assert "lifecycle generate" in err
