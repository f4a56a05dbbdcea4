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


@pytest.mark.parametrize(
    "words",
    [
        ["gate", "--run-id", "", "--only", ""],
        ["gate", "--run-id=", "--only="],
        ["gate", "--params", "", "--run-id", ""],
    ],
)
def test_an_option_given_an_empty_value_keeps_its_default(words):
    args = cli.parse_args(words)
    assert args.run_id is None
    assert args.only == cli.parse_args(["gate"]).only
    assert str(args.params) == "params.yaml"


def test_an_empty_value_does_not_count_against_a_mutually_exclusive_option():
    args = cli.parse_args(["build", "--version", "", "--alias", "prod"])
    assert (args.version, args.alias) == (None, "prod")


def test_a_value_that_is_not_empty_is_kept():
    args = cli.parse_args(["alert", "--key", "drift", "--title", "t", "--body=x", "--input", "a="])
    assert (args.body, args.body_file, args.input) == ("x", None, ["a="])


def test_a_required_option_given_an_empty_value_is_missing(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["alert", "--key", "drift", "--title", "", "--body", "x"])
    assert exit_info.value.code == 2
    assert "--title" in capsys.readouterr().err


def test_version_is_a_number(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.parse_args(["build", "--version", "candidate"])
    assert exit_info.value.code == 2
    assert "invalid int value" in capsys.readouterr().err


@pytest.mark.parametrize("verbose", [False, True])
def test_pipeline_gives_each_step_verbose_as_it_was_given(verbose, tmp_path, capsys):
    """`pipeline --verbose` runs every step with --verbose (each verb takes it), and without it
    no step gets it."""
    from lifecycle.commands.pipeline import plan, run_steps

    steps = plan(cli.VERBS, set())
    seen = []
    result = run_steps(steps, tmp_path / "p.yaml", lambda words: seen.append(words) or 0, verbose)

    assert result.exit_code == 0 and [words[0] for words in seen] == [v for v, _ in steps]
    for words in seen:
        assert cli.parse_args(words).verbose is verbose, words
    assert cli.parse_args(["describe", "--verbose"]).verbose  # a verb that prints no gate table
