"""`pyflink-kinesis package`: what the MSF zip holds, the cached wheel download, and the refusals (a missing job
file, a Flink line without a connector, a dependency without a wheel for the platform), each one line, exit 2.

The wheels come from the package registry once (cached under the pyflink-kinesis cache, as the emulator is);
the refusal of a dependency without a wheel runs pip offline (PIP_NO_INDEX) against a local folder of the
cached wheels without PyYAML's.
"""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from pyflink_kinesis import cli
from pyflink_kinesis.tools.msf_package import PLATFORM, connector_jars, download_wheels, requirements

ROOT = Path(__file__).resolve().parents[1]
JOB = ROOT / "examples" / "msf" / "msf_job.py"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
BUILT = sorted(connector_jars())


def package(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["package", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def wheels() -> list[Path]:
    """The dependency wheels for this Python (downloaded on first use, then from the cache)."""
    return download_wheels(requirements(), PYTHON)


def test_the_zip_holds_the_job_the_jar_and_every_dependency_unpacked(tmp_path: Path, wheels: list[Path],
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    helpers = tmp_path / "helpers"
    (helpers / "sub").mkdir(parents=True)
    (helpers / "__init__.py").write_text("")
    (helpers / "sub" / "tools.py").write_text("X = 1\n")
    code, out, err = package(capsys, str(JOB), "--flink", BUILT[0], "--python", PYTHON, "--include", str(helpers),
                             "-o", str(tmp_path / "app.zip"))
    assert code == 0, err
    group = json.loads(out.strip().splitlines()[-1])
    jar = "lib/" + connector_jars()[BUILT[0]].name  # the jar of that Flink line
    assert group == {"PropertyGroupId": "kinesis.analytics.flink.run.options",
                     "PropertyMap": {"python": "msf_job.py", "jarfile": jar, "pyFiles": "site-packages/"}}
    assert f"  jarfile = {jar}" in out
    names = set(zipfile.ZipFile(tmp_path / "app.zip").namelist())
    assert "msf_job.py" in names and jar in names
    tops = {n.split("/")[1] for n in names if n.startswith("site-packages/")}
    for module in ("pyflink_kinesis", "boto3", "botocore", "s3transfer", "jmespath", "yaml", "dateutil", "urllib3",
                   "helpers"):
        assert module in tops, module
    assert not tops & {"pyflink", "apache_beam", "py4j"}  # the service provides PyFlink
    assert not any(n.startswith("site-packages/pyflink_kinesis/jars/") for n in names)  # lib/ has the jar
    assert "site-packages/helpers/sub/tools.py" in names
    assert any(n.startswith("site-packages/yaml/_yaml.cpython-" + PYTHON.replace(".", "")) for n in names)
    assert len([n for n in names if n.startswith("site-packages/") and n.endswith(".dist-info/METADATA")]) == len(wheels)


def test_a_second_package_needs_no_index(tmp_path: Path, wheels: list[Path], capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # were pip run, it would find nothing
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    code, _, err = package(capsys, str(JOB), "--python", PYTHON, "-o", str(tmp_path / "app.zip"))
    assert code == 0, err


def test_a_dependency_without_a_wheel_for_the_platform_is_refused_naming_it(
        tmp_path: Path, wheels: list[Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    for wheel in wheels:
        if not wheel.name.lower().startswith("pyyaml"):
            shutil.copy(wheel, wheelhouse)
    monkeypatch.setenv("PYFLINK_KINESIS_CACHE", str(tmp_path / "cache"))  # nothing cached: pip resolves again
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheelhouse))
    code, out, err = package(capsys, str(JOB), "--python", PYTHON, "-o", str(tmp_path / "app.zip"))
    assert code == 2 and out == ""
    assert err.startswith("error: dependencies: PyYAML>=5.4 has no wheel for CPython "
                          f"{PYTHON} on {PLATFORM}"), err
    assert err.count("\n") == 1
    assert not (tmp_path / "app.zip").exists()
    assert not list((tmp_path / "cache").glob("msf-wheels/*/complete"))  # a failed download is not cached


@pytest.mark.parametrize("args,words", [
    (["missing_job.py"], "error: JOB.py: no such job file: missing_job.py"),
    ([str(JOB), "--flink", "1.19"], "error: --flink: no connector for Flink 1.19: this package builds for Flink "),
    ([str(JOB), "--python", "3"], "error: --python: expected a Python version such as 3.12, got '3'"),
    ([str(JOB), "--include", "no/such/folder"], "error: --include: no such folder: no/such/folder"),
])
def test_bad_arguments_are_refused_in_one_line_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            args: list[str], words: str) -> None:
    code, out, err = package(capsys, *args, "-o", str(tmp_path / "app.zip"))
    assert (code, out) == (2, "")
    assert err.startswith(words) and err.count("\n") == 1, err
    if "--flink" in args:
        assert all(f"'{line}'" in err for line in BUILT), err  # names the lines it builds for
    assert not (tmp_path / "app.zip").exists()


def test_the_requirements_are_the_package_s_own_without_the_engines() -> None:
    wanted: Any = {r.split(">")[0].split("=")[0].split("<")[0].strip().lower() for r in requirements()}
    assert {"boto3", "pyyaml"} <= wanted
    assert not wanted & {"apache-flink", "apache-beam"}
