"""The version matrix: a cached venv per combination of matrix/versions.txt, and its test groups run in it.

``./dev matrix [--fast] [NAME ...]`` runs this with the system Python. Each venv lives in
``~/.cache/pyflink-kinesis/venvs/<name>`` and is rebuilt only when its packages or matrix/common.txt change
(pip's cache makes a rebuild fast). The tests run from this checkout (PYTHONPATH), against the connector jars
``./dev`` built into ``pyflink_kinesis/jars``. A group runs as its own pytest, timed; the summary lists each
combination and group with its result and seconds. Exit status: 0 when every group passed.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, NamedTuple, Sequence

ROOT = Path(__file__).resolve().parents[1]
VERSIONS = ROOT / "matrix" / "versions.txt"
COMMON = ROOT / "matrix" / "common.txt"
VENVS = Path(os.environ.get("PYFLINK_KINESIS_CACHE", Path.home() / ".cache" / "pyflink-kinesis")) / "venvs"

FLINK_GLUE = ["tests/test_flink_functions.py", "tests/test_datastream_config.py"]
#: Test group -> pytest arguments (globs expanded from the checkout's root).
GROUPS: Dict[str, List[str]] = {
    # the PyFlink jobs (every test marked flink) and the PyFlink glue's own tests
    "flink": ["tests/test_flink_datastream.py", "tests/test_flink_aggregation.py", "tests/test_examples.py",
              *FLINK_GLUE],
    # CI's share: the round trip, the savepoint and resume, the refused setting (3 MiniCluster jobs)
    "flink-fast": ["tests/test_flink_datastream.py", "-k", "not ten_thousand and not startup and not split_then_merge",
                   *FLINK_GLUE],
    "table": ["tests/test_table*.py"],
    # the MSF path: package the example job, run the unpacked zip on a cluster of this Flink with the printed options
    "msf": ["tests/test_msf_cluster.py"],
    "upgrade": ["-m", "upgrade", "tests/"],
    "beam": ["-m", "beam and not prism", "tests/"],
    "beam-fast": ["-m", "beam and not prism and not slow", "tests/"],
    "prism": ["-m", "prism", "tests/"],
    "prism-fast": ["-m", "prism and not slow", "tests/"],
}


#: The "upgrade" group resumes a savepoint of its combination's Flink on this combination's Flink.
UPGRADE_TO = "flink-2.2"


class Combination(NamedTuple):
    """One line of versions.txt."""

    name: str
    packages: List[str]
    groups: List[str]
    fast_groups: List[str]


def read_versions(path: Path = VERSIONS) -> List[Combination]:
    """The combinations of ``path``: ``name | packages | groups | fast groups`` a line, ``#`` comments."""
    out = []
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = [f.strip() for f in line.split("|")]
        if len(fields) != 4:
            raise SystemExit(f"{path}:{number}: expected 'name | packages | groups | fast groups', got {raw!r}")
        name, packages, groups, fast = fields
        unknown = [g for g in groups.split() + fast.split() if g not in GROUPS]
        if unknown:
            raise SystemExit(f"{path}:{number}: unknown test group {unknown[0]!r} (known: {', '.join(GROUPS)})")
        out.append(Combination(name, packages.split(), groups.split(), fast.split()))
    return out


def venv(combination: Combination, python: str) -> Path:
    """The combination's venv, created (or rebuilt when its packages changed) with the pinned uv that ./dev
    installs (``PYFLINK_KINESIS_UV``): from uv's cache a venv takes seconds."""
    home = VENVS / combination.name
    wanted = "\n".join(combination.packages) + "\n" + COMMON.read_text() + python
    stamp = home / f".matrix-{hashlib.sha256(wanted.encode()).hexdigest()[:16]}"
    if stamp.is_file():
        return home
    print(f"==> matrix {combination.name}: creating {home} ({' '.join(combination.packages)})", flush=True)
    started = time.monotonic()
    uv = os.environ.get("PYFLINK_KINESIS_UV")
    if not uv:
        raise SystemExit("error: PYFLINK_KINESIS_UV is not set: run the matrix through ./dev matrix, which installs uv")
    subprocess.run([uv, "venv", "--quiet", "--seed", "--clear", "--python", python, str(home)], check=True)
    subprocess.run([uv, "pip", "install", "--quiet", "--python", str(home / "bin" / "python"), *combination.packages,
                    "-r", str(COMMON)], check=True)
    # the pinned local Kinesis the tests start (npm ci into the shared cache, once)
    subprocess.run([str(home / "bin" / "python"), "-c", "from pyflink_kinesis.tools.local import emulator_main; emulator_main()"],
                   env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT, check=True)
    stamp.touch()
    print(f"==> matrix {combination.name}: venv ready in {time.monotonic() - started:.0f} s", flush=True)
    return home


def pytest_args(group: str) -> List[str]:
    """The group's pytest arguments with globs expanded."""
    args: List[str] = []
    for arg in GROUPS[group]:
        matches = sorted(glob.glob(str(ROOT / arg))) if "*" in arg else []
        args += [str(Path(m).relative_to(ROOT)) for m in matches] if matches else [arg]
    return args


def run_group(home: Path, combination: Combination, group: str, extra: Sequence[str], venv_python: str) -> int:
    """Runs one group in the venv; pytest's exit status (5 when the group selected no test: a failure too)."""
    python = str(home / "bin" / "python")
    env = dict(os.environ, PYTHONPATH=str(ROOT), VIRTUAL_ENV=str(home),
               PATH=f"{home / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    if group == "upgrade":  # from this venv's Flink to UPGRADE_TO's
        target = next(c for c in read_versions() if c.name == UPGRADE_TO)
        env.update(PYFLINK_KINESIS_UPGRADE_FROM=python,
                   PYFLINK_KINESIS_UPGRADE_TO=str(venv(target, venv_python) / "bin" / "python"))
    if group.startswith("prism"):  # a Prism built for this venv's Beam (go install, cached per Beam version)
        subprocess.run([python, "-m", "pyflink_kinesis.tools.prism"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    command = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args(group), *extra]
    print(f"==> matrix {combination.name} [{group}]: {' '.join(command[1:])}", flush=True)
    return subprocess.run(command, env=env, cwd=ROOT).returncode


def _step_failed(combination: Combination, step: str, error: subprocess.CalledProcessError) -> int:
    """Says which command of which step failed; returns its exit status."""
    print(f"error: matrix {combination.name} [{step}]: {' '.join(map(str, error.cmd))} exited {error.returncode}",
          file=sys.stderr)
    return error.returncode or 1


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(prog="./dev matrix", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="combinations to run (default: all of matrix/versions.txt)")
    parser.add_argument("--fast", action="store_true", help="run each combination's fast groups only (as CI does)")
    parser.add_argument("--python", default=sys.executable, help="the Python the venvs are made with")
    options, extra = parser.parse_known_args(argv)
    combinations = read_versions()
    unknown = set(options.names) - {c.name for c in combinations}
    if unknown:
        parser.error(f"unknown combination {sorted(unknown)[0]!r} (see {VERSIONS.relative_to(ROOT)})")
    results = []
    for combination in combinations:
        if options.names and combination.name not in options.names:
            continue
        if options.fast and not combination.fast_groups:
            continue
        started = time.monotonic()
        try:
            home = venv(combination, options.python)
        except subprocess.CalledProcessError as e:
            results.append((combination.name, "venv", _step_failed(combination, "venv", e), time.monotonic() - started))
            continue
        results.append((combination.name, "venv", 0, time.monotonic() - started))
        for group in combination.fast_groups if options.fast else combination.groups:
            started = time.monotonic()
            try:
                code = run_group(home, combination, group, extra, options.python)
            except subprocess.CalledProcessError as e:  # a venv or Prism the group needs
                code = _step_failed(combination, group, e)
            results.append((combination.name, group, code, time.monotonic() - started))
    print("==> matrix summary (combination, group, result, seconds):")
    for name, group, code, seconds in results:
        print(f"    {name:12} {group:11} {'passed' if code == 0 else f'FAILED ({code})':12} {seconds:6.0f}")
    failed = [f"{name} [{group}]" for name, group, code, _ in results if code != 0]
    if failed:
        print(f"error: the matrix failed in {', '.join(failed)}: see that pytest's output above", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
