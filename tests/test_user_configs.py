"""Configurations written by hand, exactly as the docs show them (examples/configs/), on a plain ``http://``
endpoint with the documented defaults: nothing is added by the project's helpers, nothing is decided because the
endpoint is local. Filled in: only the endpoint's port (each test's own emulator has a free one) and, for SQL, the
jar path that ``pyflink-kinesis jar`` prints. The MSF path's hand-written properties: tests/test_msf_cluster.py.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from pyflink_kinesis.testing import put_all, read_stream, wait_until
from pyflink_kinesis.tools.local import LocalKinesis, create_stream

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "examples" / "configs"
DOCS_ENDPOINT = "http://127.0.0.1:4568"
DOCS_JAR = "/path/printed/by/pyflink-kinesis-jar.jar"
RECORDS = 60


@pytest.fixture
def emulator() -> Iterator[Tuple[LocalKinesis, Any]]:
    """An emulator of the test's own, so the docs' stream names ('orders', 'orders-copy') are free."""
    with LocalKinesis() as kinesis:
        client = kinesis.client()
        create_stream(client, "orders", shards=2)
        create_stream(client, "orders-copy", shards=1)
        yield kinesis, client


def put_binary_records(client: Any) -> Dict[bytes, str]:
    """``RECORDS`` records of random bytes (every byte value occurs) in 'orders'; data -> partition key."""
    rng = random.Random(21)
    written = {bytes([i % 256]) + rng.randbytes(rng.randrange(1, 300)) + bytes(range(i % 7)): f"key-{i}"
               for i in range(RECORDS)}
    put_all(client, "orders", [{"Data": d, "PartitionKey": k} for d, k in written.items()])
    return written


def copied(client: Any) -> List[Tuple[bytes, str]]:
    return [(r["Data"], r["PartitionKey"]) for r in read_stream(client, "orders-copy")]


def filled_in(text: str, kinesis: LocalKinesis) -> str:
    assert DOCS_ENDPOINT in text
    return text.replace(DOCS_ENDPOINT, kinesis.endpoint)


def activated_venv() -> Dict[str, str]:
    """The environment of a shell with this interpreter's environment activated: PyFlink's Python workers run
    ``python`` from the PATH, as they do for a user's job."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def run_until_copied(command: List[str], client: Any, written: Dict[bytes, str], log: Path) -> None:
    """Run a never-ending job as a user does (``python job.py``) until 'orders-copy' holds every record, then
    stop it; fails with the job's output if it does not get there."""
    with log.open("wb") as out:
        job = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                               env=activated_venv())
    try:
        wait_until(lambda: len(copied(client)) >= len(written) or job.poll() is not None, 300,
                   "the job to copy every record")
        assert job.poll() is None, f"the job ended (exit {job.returncode}):\n{log.read_text()[-6000:]}"
    except TimeoutError as e:
        raise AssertionError(f"{e}; copied {len(copied(client))} of {len(written)}:\n{log.read_text()[-6000:]}")
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
        job.wait(timeout=60)


def assert_copied_once(client: Any, written: Dict[bytes, str]) -> None:
    got = copied(client)
    assert sorted(got) == sorted(written.items())  # byte for byte, each once, with its partition key


@pytest.mark.integration
@pytest.mark.beam
def test_beam_reads_and_writes_with_a_hand_written_statefun_module(emulator: Tuple[LocalKinesis, Any],
                                                                    tmp_path: Path) -> None:
    pytest.importorskip("apache_beam")
    kinesis, client = emulator
    written = put_binary_records(client)
    module = tmp_path / "copy_module.yaml"
    module.write_text(filled_in((CONFIGS / "copy_module.yaml").read_text(), kinesis))
    ran = subprocess.run([sys.executable, str(CONFIGS / "beam_copy.py"), str(module)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout + ran.stderr[-6000:]
    assert "copied orders -> orders-copy" in ran.stdout
    assert_copied_once(client, written)


@pytest.mark.integration
@pytest.mark.flink
def test_datastream_job_with_a_hand_written_properties_map(emulator: Tuple[LocalKinesis, Any],
                                                           tmp_path: Path) -> None:
    pytest.importorskip("pyflink")
    kinesis, client = emulator
    written = put_binary_records(client)
    assert DOCS_ENDPOINT in (CONFIGS / "datastream_copy.py").read_text()
    run_until_copied([sys.executable, str(CONFIGS / "datastream_copy.py"), kinesis.endpoint], client, written,
                     tmp_path / "job.log")
    assert_copied_once(client, written)


@pytest.mark.integration
@pytest.mark.flink
def test_sql_tables_written_by_hand_with_add_jar(emulator: Tuple[LocalKinesis, Any], tmp_path: Path) -> None:
    """The issue's case: 'pyflink-kinesis' tables on a plain http:// endpoint with the default protocol (HTTP/2);
    the jar by ``ADD JAR`` with the path ``pyflink-kinesis jar`` printed."""
    pytest.importorskip("pyflink")
    kinesis, client = emulator
    printed = subprocess.run([sys.executable, "-m", "pyflink_kinesis", "jar"], cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
    assert printed.returncode == 0, printed.stderr
    jar = printed.stdout.strip()
    assert Path(jar).is_file() and jar.endswith(".jar"), jar
    script = (CONFIGS / "copy.sql").read_text()
    assert DOCS_JAR in script and "aws.http.protocol.version" not in script and "aws.emulator" not in script
    sql = tmp_path / "copy.sql"
    sql.write_text(filled_in(script, kinesis).replace(DOCS_JAR, jar))
    written = put_binary_records(client)
    run_until_copied([sys.executable, str(CONFIGS / "run_sql.py"), str(sql)], client, written, tmp_path / "job.log")
    assert_copied_once(client, written)
