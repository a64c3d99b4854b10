"""The version matrix file (matrix/versions.txt) agrees with what the package claims and ships: setup.py's extras
accept every tested version and nothing untested, each tested Flink line has its connector jar, and the
development page (docs/development.md) lists every combination. The runs themselves are `./dev matrix` (matrix/run.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, List

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from matrix.run import GROUPS, read_versions
from pyflink_kinesis.flink.jar import JARS, UnsupportedFlinkVersion, flink_line

ROOT = Path(__file__).resolve().parents[1]
COMBINATIONS = read_versions()


def pinned(package: str) -> List[str]:
    """The versions of ``package`` the matrix installs, e.g. ``["1.20.5", "2.2.1", ...]``."""
    return [p.split("==")[1] for c in COMBINATIONS for p in c.packages if p.startswith(package + "==")]


def extras() -> Dict[str, SpecifierSet]:
    """setup.py's extras_require, read without running setup.py."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "setup")
    value = ast.literal_eval(next(k.value for k in call.keywords if k.arg == "extras_require"))
    return {name: Requirement(value[name][0]).specifier for name in ("flink", "beam")}


def test_every_group_is_defined_and_every_combination_runs_something() -> None:
    assert COMBINATIONS
    for combination in COMBINATIONS:
        assert combination.groups, combination
        assert set(combination.groups + combination.fast_groups) <= set(GROUPS)


def test_the_flink_extra_accepts_each_tested_flink_and_nothing_older_newer_or_skipped() -> None:
    flink = extras()["flink"]
    tested = pinned("apache-flink")
    assert {v[:4] for v in tested} >= {"1.20", "2.2.", "2.3."}
    assert all(v in flink for v in tested), (flink, tested)
    for untested in ("1.19.3", "2.0.2", "2.1.3", "2.4.0", "3.0.0"):
        assert untested not in flink, f"setup.py's [flink] extra claims untested Flink {untested}"


def test_the_beam_extra_accepts_each_tested_beam_and_nothing_older() -> None:
    beam = extras()["beam"]
    tested = pinned("apache-beam")
    assert "2.77.0" in tested and all(v in beam for v in tested), (beam, tested)
    assert "2.54.0" not in beam and "2.78.0" not in beam


@pytest.mark.parametrize("version", pinned("apache-flink"))
def test_each_tested_flink_has_a_connector_jar_line(version: str) -> None:
    assert flink_line(version) in JARS


def test_a_flink_the_jars_cannot_run_has_no_line() -> None:
    with pytest.raises(UnsupportedFlinkVersion):
        flink_line("2.0.2")  # its connector-base lacks the buffer API the 2.x sink is written on


def test_the_development_page_lists_each_combination_with_its_versions() -> None:
    page = (ROOT / "docs" / "development.md").read_text(encoding="utf-8")
    section = page[page.index("## The version matrix"):]
    section = section[:section.index("\n## ")]
    for combination in COMBINATIONS:
        assert re.search(rf"`{re.escape(combination.name)}`", section), combination.name
        for package in combination.packages:
            assert package.split("==")[1] in section, (combination.name, package)
