"""``pyflink-kinesis package``: a zip that Amazon Managed Service for Apache Flink (MSF) runs as it is.

The service runs a PyFlink application from a zip and cannot pip-install at deploy time, so everything travels
inside it: the job, ``lib/`` with the connector jar for the application's Flink line, and ``site-packages/``
with this package and every Python dependency of it, unpacked from manylinux x86_64 wheels for the service's
Python. apache-flink and apache-beam stay out: the service provides PyFlink (and Beam with it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence

from ..spec.application_properties import RUN_OPTIONS_GROUP
from ..spec.errors import ConfigError, one_of
from ..flink.jar import JAR_DIR, JARS, flink_line
from .local import cache_dir

DISTRIBUTION = "pyflink-kinesis"
PLATFORM = "manylinux2014_x86_64"
PROVIDED = {"apache-flink", "apache-beam"}  # the service provides PyFlink, which brings Beam
MSF_PYTHON = {"1.20": "3.11", "2.2": "3.12", "2.3": "3.12"}  # the service's Python per Flink runtime
DEFAULT_FLINK = "2.2"  # the service's default for new applications
LIB, SITE = "lib", "site-packages"
_PYTHON_VERSION = re.compile(r"^3\.\d{1,2}$")
_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")


def connector_jars() -> dict[str, Path]:
    """The connector jar of each MSF Flink runtime this package builds for (2.2 and 2.3 share the 2.x jar)."""
    return {line: JAR_DIR / JARS[flink_line(line)][1] for line in MSF_PYTHON}


def connector_jar_for(line: str) -> Path:
    """The connector jar for the Flink line ``line`` (``"2.2"``); a ConfigError naming the lines built for."""
    jars = connector_jars()
    if line not in jars:
        raise ConfigError(f"no connector for Flink {line}: this package builds for Flink {one_of(sorted(jars))}",
                          field="--flink")
    if not jars[line].is_file():
        raise ConfigError(f"the connector jar for Flink {line}, {jars[line]}, is missing: build it in a checkout "
                          "with `./dev run` (or `cd java && mvn -B package`)", field="--flink")
    return jars[line]


@dataclass(frozen=True)
class Package:
    """What :func:`build_package` wrote.

    Attributes:
        path: The zip.
        run_options: The ``kinesis.analytics.flink.run.options`` property map (``python``, ``jarfile``, ``pyFiles``).
        distributions: The wheels unpacked into ``site-packages/`` (file names).
        python: The Python version the wheels are for.
    """

    path: Path
    run_options: dict[str, str]
    distributions: tuple[str, ...]
    python: str

    def property_group(self) -> dict[str, object]:
        """The run options as one entry of MSF's property groups (``application_properties.json``)."""
        return {"PropertyGroupId": RUN_OPTIONS_GROUP, "PropertyMap": self.run_options}


def build_package(job: os.PathLike[str] | str, output: os.PathLike[str] | str, flink: str = DEFAULT_FLINK,
                  python: Optional[str] = None, include: Sequence[os.PathLike[str] | str] = ()) -> Package:
    """Write an MSF application zip for ``job``.

    Args:
        job: The job's main ``.py`` file; it goes to the zip's top level.
        output: The zip to write (replaced if it exists).
        flink: The application's Flink line (``"2.2"``), which picks the connector jar.
        python: The service's Python for that line (``"3.12"``); default: the one MSF runs with ``flink``.
        include: Folders of the job's own modules, copied into ``site-packages/`` (importable on the
            client and the workers).

    Raises:
        ConfigError: a missing job file or folder, a Flink line this package has no connector for, a Python
            version that is not ``3.N``, a dependency without a wheel for that Python on manylinux x86_64.
    """
    script = Path(job)
    if not script.is_file() or script.suffix != ".py":
        raise ConfigError(f"no such job file: {script} (expected the job's main .py file)", field="JOB.py")
    folders = [Path(folder) for folder in include]
    for folder in folders:
        if not folder.is_dir():
            raise ConfigError(f"no such folder: {folder}", field="--include")
    jar = connector_jar_for(flink)
    python = python or MSF_PYTHON.get(flink, MSF_PYTHON[DEFAULT_FLINK])
    if not _PYTHON_VERSION.match(python):
        raise ConfigError(f"expected a Python version such as 3.12, got {python!r}", field="--python")
    wheels = download_wheels(requirements(), python)
    options = {"python": script.name, "jarfile": f"{LIB}/{jar.name}", "pyFiles": f"{SITE}/"}
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(script, script.name)
        archive.write(jar, options["jarfile"])
        for wheel in wheels:
            _unpack_wheel(wheel, archive)
        for name, path in _package_files():
            archive.write(path, f"{SITE}/{name}")
        for folder in folders:
            for path in _files(folder):
                archive.write(path, f"{SITE}/{folder.resolve().name}/{path.relative_to(folder).as_posix()}")
    partial.replace(out)
    return Package(out, options, tuple(wheel.name for wheel in wheels), python)


def requirements() -> list[str]:
    """The installed pyflink-kinesis's own requirements (no extras), without what the service provides."""
    try:
        declared = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        raise ConfigError(f"{DISTRIBUTION} is not installed as a distribution, so its dependencies are unknown: "
                          "pip install it (from a checkout: pip install -e .)", field="dependencies") from None
    out = []
    for requirement in declared:
        name = re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0]
        if "extra ==" not in requirement and name.lower() not in PROVIDED:
            out.append(requirement)
    return out


def download_wheels(requirements: Sequence[str], python: str) -> list[Path]:
    """Wheels of ``requirements`` and their dependencies for CPython ``python`` on manylinux x86_64.

    Downloaded once per (requirements, Python) into ``<cache>/msf-wheels/`` and reused from there, so a
    second package needs no index. pip's own settings (``PIP_INDEX_URL``, ``PIP_FIND_LINKS``...) apply.
    """
    key = hashlib.sha256(json.dumps([sorted(requirements), python, PLATFORM]).encode()).hexdigest()[:16]
    folder = cache_dir() / "msf-wheels" / f"cp{python.replace('.', '')}-{PLATFORM}-{key}"
    if (folder / "complete").is_file():
        return sorted(folder.glob("*.whl"))
    partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    command = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-input",
               "--only-binary=:all:", "--platform", PLATFORM, "--python-version", python, "--implementation", "cp",
               "--dest", str(partial), *requirements]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise ConfigError(_pip_failure(result.stdout + result.stderr, python), field="dependencies")
    (partial / "complete").write_text("\n".join(requirements) + "\n")
    try:
        partial.rename(folder)  # only complete downloads get the folder's name
    except OSError:  # another package run finished the same download first
        if not (folder / "complete").is_file():
            raise
        shutil.rmtree(partial, ignore_errors=True)
    return sorted(folder.glob("*.whl"))


def _pip_failure(output: str, python: str) -> str:
    """One line saying which dependency has no wheel (pip names it; nothing else says which), or pip's error."""
    found = _NO_MATCH.search(output)
    if found:
        return (f"{found.group(1)} has no wheel for CPython {python} on {PLATFORM}, and the service cannot "
                "build one at deploy time; pick the --python the service runs, or a version of it with wheels")
    errors = [line.strip() for line in output.splitlines() if line.startswith("ERROR:")]
    return f"pip download failed: {errors[-1] if errors else ' '.join(output.split())[-300:]}"


def _unpack_wheel(wheel: Path, archive: zipfile.ZipFile) -> None:
    """A wheel's files into ``site-packages/``, as pip would install them (``*.data/purelib|platlib`` too)."""
    with zipfile.ZipFile(wheel) as source:
        for info in source.infolist():
            name = info.filename
            if info.is_dir():
                continue
            top, _, rest = name.partition("/")
            if top.endswith(".data"):
                kind, _, inner = rest.partition("/")
                if kind not in ("purelib", "platlib"):
                    continue  # scripts, headers, data files: not importable
                name = inner
            archive.writestr(zipfile.ZipInfo(f"{SITE}/{name}", info.date_time), source.read(info),
                             zipfile.ZIP_DEFLATED)


def _package_files() -> Iterator[tuple[str, Path]]:
    """This package's files (``pyflink_kinesis/...``) without its connector jars: ``lib/`` carries the one the
    application's Flink line needs (its ``jarfile``)."""
    root = Path(__file__).resolve().parents[1]  # pyflink_kinesis/
    for path in _files(root):
        relative = path.relative_to(root)
        if relative.parts[0] != "jars":
            yield f"{root.name}/{relative.as_posix()}", path


def _files(folder: Path) -> Iterable[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and "node_modules" not in path.parts:
            yield path


def cmd_package(args: argparse.Namespace) -> int:
    try:
        package = build_package(args.job, args.output, args.flink, args.python, args.include)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    size = package.path.stat().st_size / 1e6
    print(f"{package.path}: {size:.1f} MB, the job, the connector for Flink {args.flink} and "
          f"{len(package.distributions)} wheels for CPython {package.python} on {PLATFORM}")
    print(f"Runtime properties, group {RUN_OPTIONS_GROUP}:")
    for key, value in package.run_options.items():
        print(f"  {key} = {value}")
    print("The same as a property group (application_properties.json, CreateApplication):")
    print(json.dumps(package.property_group()))
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``package`` sub-command to the CLI's sub-parsers."""
    p = sub.add_parser("package", help="a zip Amazon Managed Service for Apache Flink runs as it is",
                       usage="pyflink-kinesis package JOB.py [--flink 2.2] [--python 3.12] [--include DIR ...] "
                             "-o app.zip")
    p.add_argument("job", help="the job's main .py file")
    p.add_argument("-o", "--output", required=True, help="the zip to write")
    p.add_argument("--flink", default=DEFAULT_FLINK, help=f"the application's Flink runtime (default {DEFAULT_FLINK})")
    p.add_argument("--python", help="the service's Python (default: the one it runs with --flink: "
                   + ", ".join(f"{line}: {py}" for line, py in MSF_PYTHON.items()) + ")")
    p.add_argument("--include", action="extend", nargs="+", default=[], metavar="DIR",
                   help="folders of the job's own modules, each importable by its name")
    p.set_defaults(run=cmd_package)
