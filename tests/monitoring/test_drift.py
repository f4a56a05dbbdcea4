"""`lifecycle drift` on generated batches and prediction logs: what it flags, what it does not."""

import json
from pathlib import Path

from lifecycle import cli
from lifecycle.data.generator import DRIFTED_COLUMNS, NULL_SHARES, generate
from lifecycle.monitoring.window import read_jsonl

ROWS = 5000
NO_MODEL = ("--no-model",)


def test_drift_is_found_on_exactly_the_shifted_features(settings, data_file, run_drift):
    batch = data_file(generate(ROWS, seed=11, problems="drift"))

    code, report, outputs = run_drift(settings.source, "--current", str(batch), *NO_MODEL)

    assert code == 1
    assert set(report["drifted_features"]) == set(DRIFTED_COLUMNS)
    assert report["status"] == "drift" and report["drift"] is True
    assert outputs["drift"] == "true"
    assert set(outputs["drifted-features"].split(",")) == set(DRIFTED_COLUMNS)
    checks = {r["name"]: r for r in report["results"]}
    assert not checks["feature drift"]["passed"]
    assert not checks["multivariate drift"]["passed"]
    assert checks["missing values"]["passed"]


def test_a_fresh_sample_of_the_same_data_does_not_drift(settings, small_df, data_file, run_drift):
    batch = data_file(generate(ROWS, seed=12))

    code, report, outputs = run_drift(settings.source, "--current", str(batch), *NO_MODEL)

    assert code == 0
    assert report["drifted_features"] == [] and report["broken_features"] == []
    assert report["status"] == "ok" and report["passed"] is True
    assert outputs == {"passed": "true", "drift": "false", "status": "ok", "drifted-features": "",
                       "broken-features": ""}  # fmt: skip
    assert report["window"]["rows"] == ROWS
    assert report["reference"]["rows"] == len(small_df)


def test_a_small_window_is_not_enough_data_not_an_alarm(settings, data_file, run_drift, capsys):
    rows = settings.gates.drift.min_rows - 1
    batch = data_file(generate(rows, seed=11, problems="drift"))

    code, report, outputs = run_drift(settings.source, "--current", str(batch))

    assert code == 0
    assert report["status"] == "not-enough-data" and report["results"] == []
    assert outputs["drift"] == "false" and outputs["status"] == "not-enough-data"
    assert f"the window holds {rows} row(s)" in report["note"]
    assert "note: Not enough data: the window holds" in capsys.readouterr().out


def test_an_empty_log_folder_is_not_enough_data(settings, tmp_path, run_drift):
    (tmp_path / "predictions").mkdir()

    code, report, _ = run_drift(settings.source, "--current", str(tmp_path / "predictions"))

    assert code == 0 and report["status"] == "not-enough-data"
    assert report["window"]["rows"] == 0


def test_missing_values_break_quality_not_drift(settings, data_file, run_drift):
    batch = data_file(generate(ROWS, seed=11, problems="nulls"))

    code, report, outputs = run_drift(settings.source, "--current", str(batch), *NO_MODEL)

    assert code == 1
    assert set(report["broken_features"]) == set(NULL_SHARES)
    assert report["drifted_features"] == [] and report["drift"] is False
    assert outputs["drift"] == "false" and outputs["status"] == "quality"
    assert set(outputs["broken-features"].split(",")) == set(NULL_SHARES)


def test_warn_mode_reports_without_failing(params_file, data_file, run_drift):
    params = params_file({"gates": {"drift": {"mode": "warn"}}})
    batch = data_file(generate(ROWS, seed=11, problems="drift"))

    code, report, outputs = run_drift(params, "--current", str(batch), *NO_MODEL)

    assert code == 0
    assert report["status"] == "drift" and outputs["drift"] == "true"
    assert report["blocking"] is False


CORRUPT = ('{"timestamp": "2025-01-01T00:00:00", "age": 3', "garbage", "[1, 2, 3]")


def test_prediction_logs_are_read_and_corrupt_lines_counted(
    settings, tmp_path, run_drift, write_log
):
    folder = tmp_path / "predictions"
    write_log(folder, generate(1000, seed=11, problems="drift"), CORRUPT)
    (folder / "predictions-torn.parquet").write_bytes(b"PAR1 cut short")

    code, report, outputs = run_drift(settings.source, "--current", str(folder), *NO_MODEL)

    assert code == 1 and outputs["drift"] == "true"
    assert report["window"]["rows"] == 1000 and report["window"]["files"] == 2
    assert report["window"]["corrupt_lines"] == len(CORRUPT)
    assert [Path(p).name for p in report["window"]["unreadable_files"]] == [
        "predictions-torn.parquet"
    ]
    assert set(report["drifted_features"]) == set(DRIFTED_COLUMNS)
    markdown = (tmp_path / "reports" / "drift.md").read_text(encoding="utf-8")
    assert f"corrupt lines skipped: **{len(CORRUPT)}**" in markdown
    assert "<table>" in (tmp_path / "reports" / "drift.html").read_text(encoding="utf-8")


def test_the_default_window_is_the_configured_prediction_log(
    params_file, tmp_path, run_drift, write_log
):
    folder = tmp_path / "logs"
    params = params_file({"serving": {"prediction_log": {"path": str(folder)}}})
    missing_code, missing, _ = run_drift(params)
    write_log(folder, generate(1000, seed=12), ())

    code, report, _ = run_drift(params, *NO_MODEL)

    assert missing_code == 0 and missing["status"] == "not-enough-data"
    assert "No prediction log" in " ".join(missing["notes"])
    assert code == 0 and report["window"]["rows"] == 1000 and report["status"] == "ok"


def test_in_a_workflow_a_missing_prediction_log_is_an_error_not_a_quiet_pass(
    params_file, tmp_path, monkeypatch, capsys
):
    """A scheduled run reading a log that is not there would report "not enough data" for ever."""
    params = params_file({"serving": {"prediction_log": {"path": str(tmp_path / "nowhere")}}})
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "outputs"))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)

    assert cli.main(["drift", "--params", str(params)]) == 2
    err = capsys.readouterr().err
    assert "nowhere not found" in err and "serving.prediction_log.path" in err
    assert "Traceback" not in err


def test_a_torn_log_is_read_line_by_line():
    good = json.dumps({"age": 30, "purpose": "car"})
    frame, corrupt = read_jsonl(f"{good}\n{good[:-4]}\n\n{good}\n".encode())

    assert len(frame) == 2 and corrupt == 1
    assert read_jsonl(f"{good}\n{good}\n".encode())[1] == 0


def test_an_unknown_reference_version_is_named(settings, data_file, capsys):
    batch = data_file(generate(ROWS, seed=12))
    argv = ["drift", "--params", str(settings.source), "--current", str(batch), *NO_MODEL]

    code = cli.main([*argv, "--reference-version", "0123456789abcdef0123456789abcdef"])

    assert code == 2
    assert "reference data version 0123456789abcdef0123456789abcdef not found" in (
        capsys.readouterr().err
    )


def test_the_current_version_can_be_named_explicitly(settings, data_file, run_drift):
    from lifecycle.data.dvc import data_version

    batch = data_file(generate(ROWS, seed=12))
    version = data_version(settings)

    code, report, _ = run_drift(
        settings.source, "--current", str(batch), "--reference-version", version, *NO_MODEL
    )

    assert code == 0 and report["reference"]["version"] == version


def test_a_named_current_window_that_does_not_exist_is_an_error(settings, tmp_path, capsys):
    argv = ["drift", "--params", str(settings.source), "--current", str(tmp_path / "nope")]

    assert cli.main(argv) == 2
    assert "nope not found" in capsys.readouterr().err


def test_mode_off_checks_nothing(params_file, data_file, run_drift):
    params = params_file({"gates": {"drift": {"mode": "off"}}})
    batch = data_file(generate(ROWS, seed=11, problems="drift"))

    code, report, outputs = run_drift(params, "--current", str(batch))

    assert code == 0 and report["status"] == "off" and outputs["drift"] == "false"


def test_days_keeps_only_recent_records(settings, tmp_path, run_drift, write_log):
    folder = tmp_path / "predictions"
    path = write_log(folder, generate(300, seed=12), ())
    old = generate(500, seed=11, problems="drift").drop(columns=["default"])
    old["timestamp"] = "2020-01-01T00:00:00+00:00"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(old.to_json(orient="records", lines=True))

    code, report, _ = run_drift(settings.source, "--current", str(folder), "--days", "1", *NO_MODEL)

    assert code == 0 and report["window"]["rows"] == 300 and report["status"] == "ok"
    assert any("last 1 days" in note for note in report["notes"])
