"""An in-place Flink upgrade, as Amazon Managed Service for Apache Flink does it: a savepoint of a running job
on a Flink 1.20 cluster, resumed on a Flink 2.2 cluster, each cluster started from its own apache-flink wheel.

The copy job (examples/copy_job.py) runs on each cluster through that venv's own ``pyflink-kinesis`` CLI
(``cluster up``, ``submit``, ``savepoint --stop``), so each side loads its own connector jar (flink-1.20, then
flink-2.x). Its state is the source's split positions and the sink's buffer, both written by the connector's
versioned serializers. The test needs the two venvs: ``./dev matrix`` (group ``upgrade``) makes them and names
their Pythons in ``PYFLINK_KINESIS_UPGRADE_FROM`` and ``PYFLINK_KINESIS_UPGRADE_TO``; without them it is skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any, Callable, Iterator, List

import pytest

from pyflink_kinesis.cluster import FlinkCluster
from pyflink_kinesis.testing import wait_until

from .cluster_support import StreamTail, analyse, numbered, put_parallel

pytestmark = [pytest.mark.cluster, pytest.mark.integration, pytest.mark.upgrade]

ROOT = Path(__file__).resolve().parents[1]
JOB = ROOT / "examples" / "copy_job.py"
FROM = os.environ.get("PYFLINK_KINESIS_UPGRADE_FROM")
TO = os.environ.get("PYFLINK_KINESIS_UPGRADE_TO")


def flink_version(python: str) -> str:
    return subprocess.run([python, "-c", "from importlib.metadata import version; print(version('apache-flink'))"],
                          capture_output=True, text=True, check=True).stdout.strip()


class VenvCluster:
    """A cluster started by ``python -m pyflink_kinesis cluster up`` of one venv; jobs go through the same CLI."""

    def __init__(self, python: str, state_dir: Path) -> None:
        self.python, self.state_dir = python, state_dir
        self.env = dict(os.environ, PYTHONPATH=str(ROOT))
        up = self.cli("cluster", "up", "--taskmanagers", "1", "--slots", "2", "--rest-port", "0", "--rpc-port", "0")
        assert up.returncode == 0, up.stdout + up.stderr
        cluster = FlinkCluster.attach(state_dir)
        assert cluster is not None
        self.rest = cluster

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """``pyflink-kinesis ARGS --dir STATE_DIR`` (``--dir`` before a ``--`` that starts the job's arguments)."""
        split = args.index("--") if "--" in args else len(args)
        command = [*args[:split], "--dir", str(self.state_dir), *args[split:]]
        return subprocess.run([self.python, "-m", "pyflink_kinesis", *command],
                              env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def submit(self, *job_args: str, from_savepoint: str = "") -> str:
        restore = ["--from-savepoint", from_savepoint] if from_savepoint else []
        done = self.cli("submit", str(JOB), "--detached", "--parallelism", "2", *restore, "--", *job_args)
        assert done.returncode == 0, done.stdout + done.stderr
        job_id = re.search(r"job id: ([0-9a-f]{32})", done.stdout).group(1)  # type: ignore[union-attr]
        self.rest.wait_for_job(job_id, timeout=180)
        return job_id

    def stop_with_savepoint(self, job_id: str) -> str:
        done = self.cli("savepoint", job_id, "--stop")
        assert done.returncode == 0, done.stdout + done.stderr
        return re.search(r"savepoint: (\S+)", done.stdout).group(1)  # type: ignore[union-attr]

    def down(self) -> None:
        self.cli("cluster", "down")


@pytest.fixture
def clusters(tmp_path: Path) -> Iterator[List[VenvCluster]]:
    """The started clusters; each is brought down at the end, whatever happened."""
    started: List[VenvCluster] = []
    yield started
    for cluster in started:
        cluster.down()


@pytest.mark.skipif(not (FROM and TO), reason="needs PYFLINK_KINESIS_UPGRADE_FROM/_TO venvs: run ./dev matrix")
def test_a_savepoint_taken_on_flink_1_20_resumes_on_flink_2_2_reading_every_record_once(
        tmp_path: Path, kinesis: Any, client: Any, new_stream: Callable[..., str], clusters: List[VenvCluster],
        figures: Callable[..., Any]) -> None:
    assert FROM and TO
    assert flink_version(FROM).startswith("1.20.") and flink_version(TO).startswith("2.2.")
    source, sink = new_stream(shards=4, prefix="up-in"), new_stream(shards=4, prefix="up-out")
    job_args = ["--endpoint", kinesis.endpoint, "--input", source, "--output", sink, "--start", "earliest"]
    first = numbered("up", keys=50, count=2_000)
    put_parallel(kinesis.client, source, first)

    old = VenvCluster(FROM, tmp_path / "flink-1.20")
    clusters.append(old)
    job_id = old.submit(*job_args)
    tail = StreamTail(client, sink)
    wait_until(lambda: tail.poll() >= 500, 300, "500 records out of the job on Flink 1.20")
    savepoint = old.stop_with_savepoint(job_id)  # mid-stream: part of the first batch is not read yet
    assert old.rest.job(job_id)["state"] == "FINISHED"
    out_at_stop = tail.poll()
    old.down()

    second = numbered("up", keys=50, count=1_000, first=2_000)
    put_parallel(kinesis.client, source, second)
    new = VenvCluster(TO, tmp_path / "flink-2.2")
    clusters.append(new)
    resumed = new.submit(*job_args, from_savepoint=savepoint)
    assert new.rest.checkpoints(resumed)["latest"]["restored"]["external_path"] == savepoint
    tail.poll_until({d for _, d in first + second}, timeout=300)

    delivery = analyse(first + second, tail.records)
    assert not delivery.lost, f"{len(delivery.lost)} records lost, e.g. {delivery.lost[:5]}"
    assert not delivery.unexpected, f"records that were never written: {delivery.unexpected[:5]}"
    # The 2.2 job restored the 1.20 job's shard positions: the startup position (earliest) is not applied again.
    assert delivery.duplicates == 0, f"{delivery.duplicates} records read twice"
    figures(records_in=delivery.records_in, records_out=delivery.records_out, out_at_stop=out_at_stop,
            flink_from=flink_version(FROM), flink_to=flink_version(TO))
