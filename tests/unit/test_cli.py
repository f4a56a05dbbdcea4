"""The CLI's shape: one entry point whose verbs are the lifecycle steps."""

import subprocess
import sys

import pytest

from lifecycle import cli


def test_help_lists_every_verb_with_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for verb in cli.VERBS:
        assert verb in out


def test_python_dash_m_runs_the_cli():
    out = subprocess.run(
        [sys.executable, "-m", "lifecycle", "--help"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "pipeline" in out.stdout


def test_unknown_verb_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["no-such-verb"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_missing_params_file_is_exit_2_without_traceback(tmp_path, capsys):
    code = cli.main(["pipeline", "--params", str(tmp_path / "nope.yaml")])
    err = capsys.readouterr().err
    assert code == 2
    assert "nope.yaml" in err and "not found" in err
    assert "Traceback" not in err
