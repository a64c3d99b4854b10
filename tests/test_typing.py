"""The public API's type hints hold together: mypy checks both packages (py.typed promises it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_packages_type_check() -> None:
    pytest.importorskip("mypy")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--ignore-missing-imports", "--no-incremental", "pyflink_kinesis", "beam_transforms"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_packages_declare_py_typed() -> None:
    for package in ("pyflink_kinesis", "beam_transforms"):
        assert (ROOT / package / "py.typed").is_file()
