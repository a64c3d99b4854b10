"""The examples run as users run them: the main job end to end, and the module validates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.integration
def test_main_job_moves_every_reading_to_its_stream() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "main.py"), "--readings", "120"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "records read: 121, skipped by the deserializer: 1, written: 120" in result.stdout
    assert "OK: every reading arrived in its stream" in result.stdout


def test_example_module_validates() -> None:
    result = subprocess.run([sys.executable, "-m", "pyflink_kinesis", "validate", "examples/module.yaml"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "OK (1 ingress(es), 1 egress(es))" in result.stdout
