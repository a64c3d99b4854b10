"""The Amazon Managed Service for Apache Flink path end to end, on a standalone cluster standing in for the service:
`pyflink-kinesis package` builds the zip of examples/msf/msf_job.py; it is unpacked into a fresh folder (no pip
install); `flink run` gets exactly the printed run options (--python, --jarfile, --pyFiles) and the job reads
its specs from an application_properties.json beside it, pointing at the test's local Kinesis; every record
written to the input stream arrives in the output stream.

What proves the dependencies come from the zip: the cluster's client and workers run a Python ("bare") that is
a venv holding every package of the development venv except the ones the zip carries (pyflink_kinesis, boto3,
botocore, PyYAML, ... : symlinks, so it costs a second instead of a fresh apache-flink install), PYTHONPATH is
unset and no process starts in a folder holding pyflink_kinesis. The test checks that this Python cannot import
them, and that the TaskManager started its Python workers with it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import pytest

from pyflink_kinesis.tools.cluster import JOB_ID, FlinkCluster
from pyflink_kinesis.tools.local import LocalKinesis
from pyflink_kinesis.tools.msf_package import connector_jars

from .cluster_support import StreamTail, numbered, put_parallel

pytestmark = [pytest.mark.cluster, pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "msf"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
CARRIED = ("pyflink_kinesis", "boto3", "botocore", "yaml", "s3transfer", "jmespath")
RECORDS = 300


def installed_line() -> str:
    return ".".join(metadata.version("apache-flink").split(".")[:2])


def bare_python(folder: Path, carried: Path) -> str:
    """A venv with the development venv's packages, less everything in ``carried`` (the zip's site-packages)
    and less .pth files (the development venv's editable install of pyflink-kinesis is one)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    site = next(folder.glob("lib/python*/site-packages"))
    source = Path(next(p for p in sys.path if p.endswith("site-packages") and Path(p, "pyflink").is_dir()))
    zipped = {_project(entry.name) for entry in carried.iterdir()}
    for entry in source.iterdir():
        if _project(entry.name) in zipped or entry.suffix == ".pth" or entry.name.startswith("__editable__"):
            continue
        (site / entry.name).symlink_to(entry)
    return str(folder / "bin" / "python")


def _project(name: str) -> str:
    """``PyYAML-6.0.3.dist-info``, ``pyyaml-6.0.4.dist-info`` -> ``pyyaml``; ``yaml`` -> ``yaml``."""
    return re.sub(r"[-_.]+", "_", name.split("-")[0].removesuffix(".py")).lower()


def imports(python: str, module: str) -> bool:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([python, "-c", f"import {module}"], cwd="/", env=env, capture_output=True,
                          timeout=120).returncode == 0


def application_properties(endpoint: str, source: str, sink: str) -> list[dict[str, Any]]:
    """The example's properties, pointed at this test's local Kinesis and streams."""
    groups = json.loads((EXAMPLE / "application_properties.json").read_text())
    for group in groups:
        values = group["PropertyMap"]
        if values.get("kind") in ("ingress", "egress"):
            values["aws.endpoint"] = endpoint
        if values.get("kind") == "ingress":
            values["streams"] = source
        if group["PropertyGroupId"] == "job":
            values["output.stream"] = sink
    return groups


@pytest.mark.parametrize("line", sorted(connector_jars()))
def test_the_packaged_zip_runs_with_the_printed_run_options_only(
        line: str, tmp_path: Path, kinesis: LocalKinesis, client: Any, new_stream: Callable[..., str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    if line != installed_line():
        pytest.skip(f"needs a cluster from apache-flink {line} (this venv has {metadata.version('apache-flink')})")
    packaged = subprocess.run(
        [sys.executable, "-m", "pyflink_kinesis", "package", str(EXAMPLE / "msf_job.py"), "--flink", line,
         "--python", PYTHON, "-o", str(tmp_path / "app.zip")],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)))  # this checkout's pyflink-kinesis packages itself
    assert packaged.returncode == 0, packaged.stderr
    options = json.loads(packaged.stdout.strip().splitlines()[-1])["PropertyMap"]

    app = tmp_path / "app"  # a fresh folder: the zip unpacked, nothing installed
    zipfile.ZipFile(tmp_path / "app.zip").extractall(app)
    source, sink = new_stream(shards=2, prefix="msf-in"), new_stream(shards=2, prefix="msf-out")
    (app / "application_properties.json").write_text(json.dumps(application_properties(kinesis.endpoint, source, sink)))

    python = bare_python(tmp_path / "bare", app / "site-packages")
    assert imports(python, "pyflink.datastream")
    assert not [m for m in CARRIED if imports(python, m)], "the workers' Python must not have the zip's packages"

    neutral = tmp_path / "cwd"
    neutral.mkdir()
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.setenv("PATH", f"{Path(python).parent}{os.pathsep}{os.environ['PATH']}")  # `python` is the bare one
    monkeypatch.chdir(neutral)
    with FlinkCluster(tmp_path / "cluster", taskmanagers=1, slots=2, rest_port=0, rpc_port=0,
                      config={"python.executable": python, "python.client.executable": python}) as cluster:
        monkeypatch.chdir(app)  # the run options are relative to the zip's root, as on the service
        run_options = [arg for key, value in options.items() for arg in (f"--{key}", value)]
        submitted = cluster.flink("run", "--detached", *run_options, timeout=600)
        found = JOB_ID.search(submitted.stdout + submitted.stderr)
        assert submitted.returncode == 0 and found, (submitted.stdout + submitted.stderr)[-4000:]
        job_id = found.group(1)
        cluster.wait_for_job(job_id, timeout=300)

        written = numbered("msf", keys=20, count=RECORDS)
        put_parallel(kinesis.client, source, written, threads=1)
        StreamTail(client, sink).poll_until({data for _, data in written}, timeout=300)
        logs = "".join(f.read_text(errors="replace") for f in cluster.log_dir.glob("flink-taskmanager-*.log"))
        cluster.cancel(job_id)
    assert f"Python interpreter path: {python}" in logs  # the workers ran the bare Python...
    worker_path = re.search(r"PYTHONPATH of python worker: (\S+)", logs)
    assert worker_path and "site-packages" in worker_path.group(1)  # ...with the zip's site-packages on its path
