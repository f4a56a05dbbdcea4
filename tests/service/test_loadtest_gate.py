"""The load-test gate's verdict from Locust's statistics (thresholds from params.yaml)."""

import math

import pytest

from lifecycle.errors import LifecycleError
from lifecycle.serving.loadtest import LoadStats, evaluate, read_stats

HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)


def test_reads_the_aggregated_row(tmp_path):
    path = tmp_path / "loadtest_stats.csv"
    path.write_text(
        HEADER
        + "\nPOST,/predict,90,1,40,45,3,200,150,9.0,0.1,40,50,60,70,80,90,100,120,200,200,200"
        "\n,Aggregated,100,2,40,45,3,200,150,10.5,0.2,41,50,60,70,80,95,100,130,200,200,200\n"
    )
    stats = read_stats(path)
    assert (stats.requests, stats.failures, stats.rps) == (100, 2, 10.5)
    assert (stats.p50_ms, stats.p95_ms, stats.p99_ms) == (41, 95, 130)
    assert stats.error_rate == pytest.approx(0.02)


def test_no_aggregated_row_is_an_error(tmp_path):
    path = tmp_path / "loadtest_stats.csv"
    path.write_text(HEADER + "\n")
    with pytest.raises(LifecycleError, match="Aggregated"):
        read_stats(path)


def test_passes_within_every_threshold(settings):
    gate = settings.gates.loadtest
    stats = LoadStats(1000, 0, gate.min_rps * 2, 5, gate.p95_ms / 2, gate.p95_ms / 1.5)
    report = evaluate(stats, gate)
    assert report.passed and not report.blocking


def test_each_threshold_fails_on_its_own(settings):
    gate = settings.gates.loadtest
    good = dict(requests=1000, failures=0, rps=gate.min_rps * 2, p50_ms=1, p95_ms=1, p99_ms=1)
    for change, metric in [
        ({"p95_ms": gate.p95_ms * 2}, "p95_ms"),
        ({"failures": 1000}, "error_rate"),
        ({"rps": gate.min_rps / 2}, "rps"),
    ]:
        report = evaluate(LoadStats(**{**good, **change}), gate)
        assert [r.metric for r in report.failures] == [metric]
        assert report.blocking and metric in report.reason()


def test_no_request_at_all_fails(settings):
    nan = math.nan
    report = evaluate(LoadStats(0, 0, 0.0, nan, nan, nan), settings.gates.loadtest)
    assert not report.passed


def write_stats(path, requests, failures, rps, p95):
    path.write_text(
        HEADER + f"\n,Aggregated,{requests},{failures},40,45,3,200,150,{rps},0,"
        f"40,50,60,70,80,{p95},100,130,200,200,200\n"
    )
    return path


def test_the_verb_judges_a_finished_run_and_writes_reports(settings, tmp_path, capsys):
    from lifecycle import cli

    gate = settings.gates.loadtest
    stats = write_stats(tmp_path / "run_stats.csv", 1000, 0, gate.min_rps * 2, gate.p95_ms / 2)
    out = tmp_path / "reports"
    args = [
        "loadtest",
        "--params",
        str(settings.source),
        "--stats",
        str(stats),
        "--reports",
        str(out),
    ]
    assert cli.main(args) == 0
    assert (out / "loadtest.md").is_file() and (out / "loadtest.json").is_file()
    assert "✅ pass" in capsys.readouterr().out


def test_the_verb_exits_1_with_the_reason_when_a_threshold_fails(settings, tmp_path, capsys):
    from lifecycle import cli

    gate = settings.gates.loadtest
    stats = write_stats(tmp_path / "run_stats.csv", 1000, 0, gate.min_rps * 2, gate.p95_ms * 3)
    args = ["loadtest", "--params", str(settings.source), "--stats", str(stats),
            "--reports", str(tmp_path / "reports")]  # fmt: skip
    assert cli.main(args) == 1
    error = capsys.readouterr().err
    assert f"gate 'loadtest' (mode enforce): p95 latency: p95_ms = {gate.p95_ms * 3:g}" in error
    assert f"(threshold {gate.p95_ms:g})" in error
