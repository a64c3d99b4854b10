"""The examples run as users run them: the main job end to end, and the module validates."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_python(arguments: List[str], stdin: Optional[str] = None, timeout: float = 420) -> str:
    """``python ARGUMENTS`` from the repository's root as a user runs it (``stdin``: a program's text, with
    ``["-"]``); its stdout, once it exited 0 within ``timeout`` seconds."""
    result = subprocess.run([sys.executable, *arguments], input=stdin, capture_output=True, text=True,
                            timeout=timeout, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr[-5000:]
    return result.stdout


def run_example(script: str, readings: int) -> str:
    """``python examples/<script> --readings N`` as a user runs it; its stdout, once it exited 0."""
    return run_python([str(ROOT / "examples" / script), "--readings", str(readings)])


@pytest.mark.integration
@pytest.mark.flink
def test_main_job_moves_every_reading_to_its_stream_with_beam_and_pyflink() -> None:
    """`./dev run`'s main: the same specs through Beam and through PyFlink; each engine writes every reading once."""
    out = run_example("main.py", 120)
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
    out = run_example("sql_job.py", 100)
    got, expected = re.search(r"out: (\d+) alerts in sql-alerts \(expected (\d+)\)", out).groups()
    assert got == expected and int(got) > 0, out


def test_example_module_validates() -> None:
    out = run_python(["-m", "pyflink_kinesis", "validate", "examples/module.yaml"], timeout=120)
    assert "OK (1 ingress(es), 1 egress(es))" in out
