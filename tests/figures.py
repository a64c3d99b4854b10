"""Figures that tests measure (records in and out, duplicates, restarts, recovery time), kept across runs.

A test takes the ``figures`` fixture and calls ``figures(records_in=..., records_out=..., ...)``. Each call prints
the figures, appends them as one JSON line to ``tests/results/figures.jsonl`` (``$PYFLINK_KINESIS_RESULTS``
overrides the file; not versioned), and the terminal summary shows this run's figures beside the previous run's of
the same test, or those of ``tests/results/baseline.jsonl`` (versioned) on a fresh checkout, so a regression shows.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

RESULTS = Path(os.environ.get("PYFLINK_KINESIS_RESULTS") or Path(__file__).parent / "results" / "figures.jsonl")
BASELINE = Path(__file__).parent / "results" / "baseline.jsonl"
_start: list[int] = []  # RESULTS' size when this run started (set in the controlling process)
_previous: dict[str, dict[str, Any]] = {}


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10,
                              cwd=Path(__file__).parent).stdout.strip()
    except OSError:
        return ""


def _load_previous(before: Optional[int] = None) -> None:
    """The figures of earlier runs: the baseline, then RESULTS (its first ``before`` bytes); the latest entry wins."""
    if _previous:
        return
    for path in (BASELINE, RESULTS):
        text = path.read_bytes()[:before if path == RESULTS else None].decode() if path.is_file() else ""
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            _previous[entry.get("test", "")] = entry


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Callable[..., dict[str, Any]]:
    """``figures(**values)`` records this test's figures (numbers or short strings)."""

    def record(**values: Any) -> dict[str, Any]:
        entry = {"test": request.node.nodeid, "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 "commit": _commit(), **values}
        print("figures:", json.dumps(values))
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        with RESULTS.open("a") as f:
            f.write(json.dumps(entry) + "\n")
        return entry

    return record


def _format(values: dict[str, Any], previous: Optional[dict[str, Any]]) -> str:
    parts = []
    for key, value in values.items():
        if key in ("test", "time", "commit"):
            continue
        before = previous.get(key) if previous else None
        parts.append(f"{key}={value}" + (f" (was {before})" if before is not None and before != value else ""))
    return ", ".join(parts)


def pytest_sessionstart(session: Any) -> None:
    """Where this run's figures start in RESULTS: the workers of ``-n`` append to it, the summary reads them back."""
    _start.append(RESULTS.stat().st_size if RESULTS.is_file() else 0)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _start or not RESULTS.is_file():
        return
    with RESULTS.open("rb") as f:
        f.seek(_start[0])
        this_run = [json.loads(line) for line in f.read().decode().splitlines() if line.strip()]
    if not this_run:
        return
    _load_previous(before=_start[0])
    terminalreporter.section("figures (this run; previous run in brackets where different)")
    for entry in this_run:
        terminalreporter.write_line(f"{entry['test']}: {_format(entry, _previous.get(entry['test']))}")
    terminalreporter.write_line(f"kept in {RESULTS}")
