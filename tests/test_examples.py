"""The examples run as users run them: the main job end to end, and the module validates."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.integration
@pytest.mark.flink
def test_main_job_moves_every_reading_to_its_stream_with_beam_and_pyflink() -> None:
    """`./dev run`'s main: the same specs through Beam and through PyFlink; each engine writes every reading once."""
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "main.py"), "--readings", "120"],
                            capture_output=True, text=True, timeout=420, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr[-5000:]
    out = result.stdout
    assert "records read: 121, skipped by the deserializer: 1, written: 120" in out
    beam, flink = out.split("PyFlink: from_ingress(example/readings) -> to_egress(example/alerts)")
    for section in (beam, flink):
        added = re.findall(r"out: sensor-(alerts|normal): \+(\d+) records \(expected (\d+)\)", section)
        assert len(added) == 2 and all(got == want for _, got, want in added), section
        assert sum(int(got) for _, got, _ in added) == 120
    assert "OK: every reading arrived in its stream, from each engine" in out


@pytest.mark.integration
@pytest.mark.flink
def test_sql_example_writes_every_hot_reading_once() -> None:
    """examples/sql_job.py: 'pyflink-kinesis' tables made by create_table, a filter in SQL, on a MiniCluster."""
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "sql_job.py"), "--readings", "100"],
                            capture_output=True, text=True, timeout=420, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr[-5000:]
    got, expected = re.search(r"out: (\d+) alerts in sql-alerts \(expected (\d+)\)", result.stdout).groups()
    assert got == expected and int(got) > 0, result.stdout


def test_example_module_validates() -> None:
    result = subprocess.run([sys.executable, "-m", "pyflink_kinesis", "validate", "examples/module.yaml"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "OK (1 ingress(es), 1 egress(es))" in result.stdout
