"""The benchmark suite runs end to end in its tiny mode and reports every row with positive numbers.

``benchmarks/run.py --smoke`` on kinesis-local (the emulator the tests use), in a child process, writing into a
temporary folder. Speed targets are not asserted here: speed is for the benchmarks, not for unit tests.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("apache_beam")
pytest.importorskip("pyflink", reason="the benchmark suite runs Beam and PyFlink jobs: a venv with both")

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.integration, pytest.mark.beam]


def _positive(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


@pytest.mark.timeout(180)
def test_smoke_suite_produces_every_row(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--no-chart",
                          "--output-dir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=170)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    data = json.loads((tmp_path / "summary.json").read_text())
    text = (tmp_path / "summary.md").read_text()

    assert data["mode"] == "smoke" and data["emulator"].startswith("kinesis-local")
    assert "cores" in data["machine"] and "Python" in data["machine"]

    write = {r["method"]: r for r in data["write"]["rows"]}
    assert set(write) == {"WriteToKinesis (Beam DirectRunner)", "KinesisBatchWriter (no Beam)",
                          "raw boto3 put_records(500) loop", "raw boto3 put_record loop"}
    read = {r["method"]: r for r in data["read"]["rows"]}
    assert set(read) == {"ReadFromKinesis (Beam DirectRunner)", "raw boto3 get_records(10000) loop, 5/s/shard",
                         "raw boto3 get_records(10000) loop, unthrottled"}
    for row in [*write.values(), *read.values()]:
        for key in ("records", "seconds", "rps", "mbps"):
            assert _positive(row[key]), (row["method"], key, row[key])
        assert all(_positive(v) for k, v in row.items() if k.startswith("vs ")), row

    scaling = data["scaling"]
    assert [r["shards"] for r in scaling if r["dimension"] == "shards"] == [1, 2, 4, 8]
    assert [r["size"] for r in scaling if r["dimension"] == "record size"] == [100, 10_000, 1_000_000]
    for row in scaling:
        for key in ("write_rps", "write_mbps", "read_rps", "read_mbps"):
            assert _positive(row[key]), (row, key)

    assert len(data["latency"]) == 2
    for row in data["latency"]:
        assert row["records"] > 0
        assert 0 < row["p50_ms"] <= row["p90_ms"] <= row["p99_ms"] <= row["max_ms"], row

    memory = data["memory"]
    assert {(r["mode"], r["records"]) for r in memory} == {
        (mode, n) for mode in ("KinesisBatchWriter", "WriteToKinesis") for n in (40, 120)}
    for row in memory:
        assert _positive(row["traced_peak_mb"]) and _positive(row["rss_growth_mb"]), row

    for heading in ("## Write", "## Read", "## Scaling", "## End-to-end latency", "## Writer memory", "## Targets"):
        assert heading in text
    for label in [*write, *read]:
        assert f"| {label} |" in text


@pytest.mark.timeout(120)
def test_aggregation_benchmark_smoke() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "aggregation.py"), "--smoke"], cwd=ROOT,
                         capture_output=True, text=True, timeout=110)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    rows = {line.split("|")[2].strip(): [c.strip() for c in line.split("|")[3:-1]]
            for line in out.stdout.splitlines() if line.startswith("| Beam")}
    assert set(rows) == {"plain", "aggregated"}
    assert rows["plain"][3] == "600" and int(rows["aggregated"][3]) <= 60  # Kinesis records: one per ten at most
    assert float(rows["aggregated"][5]) < float(rows["plain"][5])  # PUT payload units per 1,000 records
    assert "Beam: aggregated / plain records/s" in out.stdout


@pytest.mark.parametrize("arguments, expected", [
    (["--official-jar", "/no/such/official.jar"], "--official-jar: no file /no/such/official.jar"),
    (["--jobs", "java_only,official_python"], "the official connector's jobs need its jar (--official-jar PATH)"),
    (["--jobs", "java_only,pyhton_thread"], "--jobs: unknown pyhton_thread"),
])
def test_flink_benchmark_names_a_bad_argument_before_it_starts_anything(arguments: list, expected: str) -> None:
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "flink.py"), *arguments], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and expected in out.stderr, out.stderr[-2000:]
