"""The standalone Flink cluster from the apache-flink wheel: the CLI's cluster up/status/down, submit and savepoint,
with a PyFlink job that needs no Kinesis (tests/jobs/sequence_job.py). The Kinesis jobs on a cluster, with
failures, are in test_cluster_faults.py."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from pyflink_kinesis.tools.cluster import FlinkCluster, flink_home
from pyflink_kinesis.tools.local import free_port

from pyflink_kinesis.testing import wait_until

pytestmark = [pytest.mark.cluster]

ROOT = Path(__file__).resolve().parents[1]
SEQUENCE_JOB = ROOT / "tests" / "jobs" / "sequence_job.py"


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-m", "pyflink_kinesis", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=env)


def listening_addresses(pid: int) -> set[str]:
    """Local addresses of the TCP sockets ``pid`` listens on."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, timeout=30).stdout
    hosts = {line.split()[3].rsplit(":", 1)[0] for line in out.splitlines() if f"pid={pid}," in line}
    return {h.replace("[::ffff:", "").rstrip("]") for h in hosts}  # IPv4 on a dual-stack socket


def conf_digest() -> str:
    return hashlib.sha256(b"".join(f.read_bytes() for f in sorted((flink_home() / "conf").iterdir()))).hexdigest()


def test_cluster_up_status_down_on_loopback_refusing_busy_ports(tmp_path: Path) -> None:
    wheel_conf = conf_digest()
    rest_port, rpc_port = free_port(), free_port()
    up = cli("cluster", "up", "--dir", str(tmp_path / "c"), "--taskmanagers", "2", "--slots", "1",
             "--rest-port", str(rest_port), "--rpc-port", str(rpc_port), "--checkpoint-dir", str(tmp_path / "cp"))
    cluster = FlinkCluster.attach(tmp_path / "c")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"http://127.0.0.1:{rest_port}" in up.stdout
        status = cli("cluster", "status", "--dir", str(tmp_path / "c"))
        assert status.returncode == 0, status.stdout + status.stderr
        report = json.loads(status.stdout)
        assert report["taskmanagers_registered"] == 2
        assert [p["name"] for p in report["processes"]] == ["jobmanager", "taskmanager-1", "taskmanager-2"]
        assert all(p["alive"] for p in report["processes"])
        assert report["checkpoints"] == str(tmp_path / "cp")
        logs = Path(report["logs"])
        assert logs.parent == tmp_path / "c" and any(logs.glob("flink-jobmanager-*.log"))
        assert any(logs.glob("flink-taskmanager-2-*.log"))
        for p in report["processes"]:  # every listening socket of every process is on loopback
            addresses = listening_addresses(p["pid"])
            assert addresses and addresses <= {"127.0.0.1"}, (p, addresses)

        busy = cli("cluster", "up", "--dir", str(tmp_path / "other"), "--rest-port", str(rest_port), "--rpc-port", "0")
        assert busy.returncode == 1
        assert f"port {rest_port} on 127.0.0.1 (REST/web UI) is in use" in busy.stderr
        assert "--rest-port" in busy.stderr
        again = cli("cluster", "up", "--dir", str(tmp_path / "c"), "--rest-port", "0", "--rpc-port", "0")
        assert again.returncode == 1 and "already running" in again.stderr

        pids = [p["pid"] for p in report["processes"]]
        down = cli("cluster", "down", "--dir", str(tmp_path / "c"))
        assert down.returncode == 0, down.stderr
        assert "3 process(es)" in down.stdout
        for pid in pids:
            assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
        assert cli("cluster", "status", "--dir", str(tmp_path / "c")).returncode == 3
        assert conf_digest() == wheel_conf  # the wheel's files are untouched
    finally:
        if cluster is not None:
            cluster.stop()


@pytest.fixture
def small_cluster(tmp_path: Path) -> Any:
    cluster = FlinkCluster(tmp_path / "cluster", taskmanagers=1, slots=1, rest_port=0, rpc_port=0)
    with cluster:
        yield cluster


def printed_numbers(cluster: FlinkCluster) -> list[int]:
    text = "".join(f.read_text() for f in sorted(cluster.log_dir.glob("flink-taskmanager-*.out")))
    return [int(n) for n in re.findall(r"^seq (\d+)$", text, re.MULTILINE)]


def test_submit_stop_with_savepoint_and_resume_where_it_stopped(small_cluster: FlinkCluster,
                                                                   figures: Callable[..., Any]) -> None:
    cluster, state_dir = small_cluster, str(small_cluster.state_dir)
    submitted = cli("submit", str(SEQUENCE_JOB), "--detached", "--dir", state_dir, "--", "sequence-1")
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    job_id = re.search(r"job id: ([0-9a-f]{32})", submitted.stdout).group(1)  # type: ignore[union-attr]
    assert f"web UI: {cluster.rest_url}/#/job/running/{job_id}" in submitted.stdout
    assert cluster.wait_for_job(job_id)["name"] == "sequence-1"  # the job's own arguments reached it
    wait_until(lambda: cluster.checkpoints(job_id)["counts"]["completed"] >= 1, 120, "a completed checkpoint")
    wait_until(lambda: len(printed_numbers(cluster)) >= 200, 120, "200 numbers printed")

    stopped = cli("savepoint", job_id, "--stop", "--dir", state_dir)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    savepoint = re.search(r"savepoint: (\S+)", stopped.stdout).group(1)  # type: ignore[union-attr]
    assert savepoint.startswith(f"file:{cluster.savepoint_dir}")
    assert cluster.job(job_id)["state"] == "FINISHED"
    before = printed_numbers(cluster)
    assert before == list(range(len(before)))

    resumed = cli("submit", str(SEQUENCE_JOB), "--detached", "--from-savepoint", savepoint, "--dir", state_dir)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    resumed_id = re.search(r"job id: ([0-9a-f]{32})", resumed.stdout).group(1)  # type: ignore[union-attr]
    assert cluster.checkpoints(resumed_id)["latest"]["restored"]["external_path"] == savepoint
    wait_until(lambda: len(printed_numbers(cluster)) >= len(before) + 100, 120, "100 more numbers after resuming")
    after = printed_numbers(cluster)
    cluster.cancel(resumed_id)
    # it continued after the last number printed before the stop: nothing again from 0, nothing skipped
    assert after == list(range(len(after)))
    figures(records_before_stop=len(before), records_after_resume=len(after) - len(before),
            duplicates=len(after) - len(set(after)))
