"""Every Python block of the documentation (README.md, docs/*.md) is a complete program that runs, or a fragment.

A block with the line ``<!-- fragment -->`` right before its fence is a piece of a job and is only compiled. Any
other ```python block is a complete program: it starts the local Kinesis itself, creates its streams, puts its
records and prints what came out. The ```text block after it, marked ``<!-- output -->``, holds the lines it
prints; each program runs in a child Python from the repository's root and must exit 0 having printed them, in
that order. The convention is written down in docs/development.md ("The documentation").
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Iterator, List, NamedTuple, Optional, Set

import pytest

from tests.test_examples import run_python

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(?P<language>\w*)[ \t]*\n(?P<code>.*?)^```[ \t]*$", re.M | re.S)
FRAGMENT, OUTPUT = "<!-- fragment -->", "<!-- output -->"
SNIPPET = re.compile(r'^--8<-- "(?P<path>[^"]+)"[ \t]*$', re.M)  # pymdownx.snippets, paths from the root
PROGRAM_TIMEOUT = 300  # seconds; the quick starts take 15 s (Beam) to about a minute (a MiniCluster job)


class Block(NamedTuple):
    """A fenced code block: where it stands, the marker line right before it (or ""), its language and text."""

    where: str
    marker: str
    language: str
    code: str


def blocks(page: Path) -> List[Block]:
    """The fenced code blocks of ``page``, in order."""
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
        name = page.relative_to(ROOT).as_posix() if page.is_relative_to(ROOT) else str(page)
        where = f"{name}:{text.count(chr(10), 0, match.start()) + 1}"
        code = SNIPPET.sub(lambda m: (ROOT / m.group("path")).read_text(encoding="utf-8"), match.group("code"))
        found.append(Block(where, before if before in (FRAGMENT, OUTPUT) else "", match.group("language"), code))
    return found


class Program(NamedTuple):
    """A complete program of the documentation and the lines its output block says it prints."""

    block: Block
    prints: List[str]


def programs(pages: List[Path] = PAGES) -> Iterator[Program]:
    """Every ```python block not marked as a fragment, with the output block that follows it (none: no lines)."""
    for page in pages:
        found: List[Optional[Block]] = [*blocks(page), None]
        for block, after in zip(found, found[1:]):
            if block is not None and block.language == "python" and block.marker != FRAGMENT:
                shown = after is not None and after.marker == OUTPUT and after.language == "text"
                yield Program(block, after.code.splitlines() if shown and after is not None else [])


def imported(code: str) -> Set[str]:
    """The modules a program imports, by their dotted names."""
    names: Set[str] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def marks(code: str) -> List[pytest.MarkDecorator]:
    """As the suite marks tests: every program starts the local Kinesis; PyFlink jobs are slow MiniCluster jobs."""
    tops = {name.split(".")[0] for name in imported(code)}
    found = [pytest.mark.integration]
    if "pyflink" in tops:
        found += [pytest.mark.flink, pytest.mark.slow]
    if "apache_beam" in tops:
        found.append(pytest.mark.beam)
    return found


def printed_in_order(expected: List[str], stdout: str) -> bool:
    """True when every expected line is a line of ``stdout``, in that order (other lines may come between)."""
    lines = iter(line.rstrip() for line in stdout.splitlines())
    return all(any(line == want.rstrip() for line in lines) for want in expected)


def test_every_python_block_is_a_fragment_or_a_program_with_its_output() -> None:
    problems = []
    for page in PAGES:
        found = blocks(page)
        previous_blocks: List[Optional[Block]] = [None, *found[:-1]]
        for block, previous in zip(found, previous_blocks):
            if block.language == "python":
                compile(block.code, block.where, "exec")
            elif block.marker == FRAGMENT:
                problems.append(f"{block.where}: {FRAGMENT} marks a ```{block.language} block; only ```python "
                                "blocks are fragments")
            if block.marker == OUTPUT and (block.language != "text" or previous is None
                                           or previous.language != "python" or previous.marker == FRAGMENT):
                problems.append(f"{block.where}: {OUTPUT} must mark the ```text block right after a program")
    problems += [f"{p.block.where}: a complete program (no {FRAGMENT} before it) needs the lines it prints in an "
                 f"{OUTPUT} ```text block right after it" for p in programs() if not p.prints]
    assert not problems, "\n".join(problems)


def test_the_front_page_has_a_complete_quick_start_per_engine() -> None:
    shown = [imported(p.block.code) for p in programs([ROOT / "README.md"])]
    for engine in ("beam_transforms", "pyflink_kinesis.datastream", "pyflink_kinesis.table"):
        assert any(engine in names and "pyflink_kinesis.local" in names for names in shown), engine


def test_the_checks_see_a_broken_page(tmp_path: Path) -> None:
    """The block scan itself: a program without its output block, and one with it, on a page written here."""
    page = tmp_path / "page.md"
    page.write_text(f"{FRAGMENT}\n```python\nenv\n```\n\n```python\nprint(1)\n```\n\n"
                    f"```python\nprint(2)\n```\n\n{OUTPUT}\n```text\n2\n```\n", encoding="utf-8")
    assert [b.marker for b in blocks(page)] == [FRAGMENT, "", "", OUTPUT]
    found = list(programs([page]))
    assert [(p.block.code, p.prints) for p in found] == [("print(1)\n", []), ("print(2)\n", ["2"])]
    assert printed_in_order(["a", "c"], "a\nb\nc\n") and not printed_in_order(["c", "a"], "a\nb\nc\n")


@pytest.mark.parametrize("program", [pytest.param(p, id=p.block.where, marks=marks(p.block.code))
                                     for p in programs() if p.prints])
def test_each_complete_program_runs_and_prints_what_the_page_shows(program: Program) -> None:
    stdout = run_python(["-"], stdin=program.block.code, timeout=PROGRAM_TIMEOUT)
    assert printed_in_order(program.prints, stdout), f"{program.block.where} printed:\n{stdout}"
