"""No client behaviour is chosen because an endpoint looks local (issue 21): the product decides by what the
user configured (the URL's scheme, ``aws.http.protocol.version``, the explicit ``aws.emulator`` opt-in)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Where clients are configured: the Java connector, the Beam transforms, the spec's translation, the Flink glue.
PRODUCT = [ROOT / "java" / "src" / "main", *sorted((ROOT / "java").glob("flink-*/src/main")), ROOT / "beam_transforms",
           ROOT / "pyflink_kinesis" / "spec", ROOT / "pyflink_kinesis" / "flink"]
GUESSES = re.compile(r"isLoopback|is_loopback|isAnyLocalAddress|LOOPBACK|\bis_local\b|127\.0\.0\.1|localhost"
                     r"|ipaddress\.ip_address|InetAddress\.getByName")
# Docstrings may show an example URL: only code lines count (comments and docstring examples left out).
EXAMPLE = re.compile(r"e\.g\.|such as|``\"?https?://")


def _code_lines(path: Path) -> list[tuple[int, str]]:
    lines = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith(("#", "//", "*", "/*")) or EXAMPLE.search(line):
            continue
        lines.append((number, line))
    return lines


def test_no_product_code_decides_by_the_endpoints_address() -> None:
    files = [p for root in PRODUCT for p in root.rglob("*") if p.suffix in (".py", ".java")]
    assert len(files) > 50, [str(r) for r in PRODUCT]  # the scan reads the real trees
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}" for p in files for n, line in _code_lines(p)
             if GUESSES.search(line)]
    assert not found, "behaviour keyed on a loopback address:\n" + "\n".join(found)
