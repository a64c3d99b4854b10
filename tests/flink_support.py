"""The parent side of the PyFlink tests: a child process running jobs (tests/flink_jobs.py), and bounded waits.

PyFlink runs in a child process so that its JVM ends with it (as in tests/test_table.py); the child is a
user-style job script, so a serializer class it defines lives in its ``__main__``.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from pyflink_kinesis.local import free_port

ROOT = Path(__file__).resolve().parents[1]
JOBS_SCRIPT = ROOT / "tests" / "flink_jobs.py"


class FlinkChild:
    """``python tests/flink_jobs.py`` in a child process; :meth:`call` sends a command and waits for its answer.

    Args:
        log_path: Where the child's stderr (PyFlink's and the JVM's output) goes.
        lifetime: Seconds after which the child is killed whatever happens.
        script: The job script (one that calls ``tests.flink_host.serve``).
    """

    def __init__(self, log_path: Path, lifetime: float = 600.0, script: Path = JOBS_SCRIPT) -> None:
        self.log_path = log_path
        self.rest_port = free_port()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
                   FLINK_LOG_DIR=str(log_path.parent), PYTHONUNBUFFERED="1")
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self._log, cwd=ROOT, env=env)
        self._answers: "queue.Queue[Optional[Dict[str, Any]]]" = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self._killer = threading.Timer(lifetime, self.process.kill)
        self._killer.daemon = True
        self._killer.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.decode(errors="replace")
            if line.startswith("@@ "):
                self._answers.put(json.loads(line[3:]))
        self._answers.put(None)

    def log_tail(self, chars: int = 4000) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]

    def call(self, timeout: float = 180.0, check: bool = True, **cmd: Any) -> Dict[str, Any]:
        """Send ``cmd`` and return the answer; raises with the child's log on an exit or a timeout, and on an
        error answer unless ``check`` is false."""
        return self._send(cmd, timeout, check)

    def wait(self, timeout: float) -> Dict[str, Any]:
        """Wait up to ``timeout`` s for the job to end; its end state (``timed_out`` if it is still running)."""
        return self._send({"cmd": "wait", "timeout": timeout}, timeout + 60, False)

    def _send(self, cmd: Dict[str, Any], timeout: float, check: bool) -> Dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(cmd) + "\n").encode())
        self.process.stdin.flush()
        try:
            answer = self._answers.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no answer to {cmd['cmd']} within {timeout} s; child log:\n{self.log_tail()}")
        if answer is None:
            raise AssertionError(f"the child exited during {cmd['cmd']}; child log:\n{self.log_tail()}")
        if check and "error" in answer and cmd["cmd"] not in ("wait", "cancel"):
            raise AssertionError(f"{cmd['cmd']} failed in the child:\n{answer['error']}")
        return answer

    def start(self, job: str, args: Dict[str, Any], config: Optional[Dict[str, Any]] = None) -> str:
        """Submit ``job`` (a builder in tests/flink_jobs.py); returns its job id."""
        # Metrics over REST are refreshed every 10 s by default; waits and rates want them fresh.
        conf = {"rest.port": self.rest_port, "restart-strategy.type": "none",
                "metrics.fetcher.update-interval": "200", **(config or {})}
        return str(self.call(job=job, args=args, config=conf, cmd="start")["job_id"])

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.write(b'{"cmd": "exit"}\n')
                self.process.stdin.close()
                self.process.wait(timeout=60)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(timeout=30)
        self._killer.cancel()
        self._log.close()

    def __enter__(self) -> "FlinkChild":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_until(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.5,
               child: Optional[FlinkChild] = None) -> Any:
    """Call ``condition`` until it returns something true, for at most ``timeout`` seconds; return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            log = f"\nchild log:\n{child.log_tail()}" if child is not None else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}{log}")
        if child is not None and child.process.poll() is not None:
            raise AssertionError(f"the Flink child exited while waiting for {what}:\n{child.log_tail()}")
        time.sleep(interval)


def read_stream(client: Any, stream: str) -> List[Dict[str, Any]]:
    """Every record of ``stream`` now, per shard in order (shards in ListShards order); bounded per shard."""
    records: List[Dict[str, Any]] = []
    for shard in client.list_shards(StreamName=stream)["Shards"]:
        iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for _ in range(1000):
            response = client.get_records(ShardIterator=iterator, Limit=10000)
            records.extend(dict(r, ShardId=shard["ShardId"]) for r in response["Records"])
            iterator = response.get("NextShardIterator")
            if iterator is None or (not response["Records"] and response.get("MillisBehindLatest", 0) == 0):
                break
    return records


def put_all(client: Any, stream: str, entries: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """PutRecords ``entries`` in calls of 500, retrying failed entries (bounded); the answer per entry, in order."""
    results: List[Dict[str, Any]] = [{} for _ in entries]
    for start in range(0, len(entries), 500):
        pending = list(range(start, min(start + 500, len(entries))))
        for _ in range(20):
            answer = client.put_records(StreamName=stream, Records=[entries[i] for i in pending])
            failed = []
            for i, result in zip(pending, answer["Records"]):
                if "ErrorCode" in result:
                    failed.append(i)
                else:
                    results[i] = result
            pending = failed
            if not pending:
                break
        assert not pending, f"{len(pending)} entries could not be written to {stream}"
    return results


def hash_key_for(data: bytes) -> str:
    """The explicit hash key the roundtrip job's serializer gives some records (a decimal 128-bit number)."""
    return str(int.from_bytes(hashlib.sha256(data).digest()[:16], "big"))


class Counters:
    """Stands in for PyFlink's RuntimeContext: records the counters the function registers."""

    def __init__(self) -> None:
        self.values: Dict[str, int] = {}

    def get_metrics_group(self) -> "Counters":
        return self

    def add_group(self, name: str) -> "Counters":
        assert name == "kinesis"
        return self

    def counter(self, name: str) -> Any:
        values = self.values
        values[name] = 0

        class Counter:
            def inc(self, n: int = 1) -> None:
                values[name] += n

        return Counter()
