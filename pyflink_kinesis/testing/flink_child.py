"""The parent side of PyFlink jobs run for tests and benchmarks: a job script in a child process.

PyFlink runs in a child process so that its JVM ends with it; the child is a user-style job script, so a
serializer class it defines lives in its ``__main__``. The child side is :mod:`.flink_host`.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from .streams import wait_until


class FlinkChild:
    """``python SCRIPT`` in a child process; :meth:`call` sends a command and waits for its answer.

    Args:
        script: The job script: one that calls :func:`pyflink_kinesis.testing.flink_host.serve` with its jobs.
        log_path: Where the child's stderr (PyFlink's and the JVM's output) goes.
        lifetime: Seconds after which the child is killed whatever happens.
        root: The child's working directory, first on its PYTHONPATH (PyFlink's Python workers inherit it);
            default: the folder above the script's folder (a project checkout).
    """

    def __init__(self, script: Path, log_path: Path, lifetime: float = 600.0, root: Optional[Path] = None) -> None:
        self.log_path = log_path
        root = root or Path(script).resolve().parents[1]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
                   FLINK_LOG_DIR=str(log_path.parent), PYTHONUNBUFFERED="1")
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self._log, cwd=root, env=env)
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
        """Submit ``job`` (a builder of the job script); returns its job id."""
        # Metrics over REST are refreshed every 10 s by default; waits and rates want them fresh.
        conf = {"restart-strategy.type": "none",
                "metrics.fetcher.update-interval": "200", **(config or {})}
        return str(self.call(job=job, args=args, config=conf, cmd="start")["job_id"])

    def wait_until(self, condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
        """:func:`~.streams.wait_until` that stops early if the child exits and shows its log on a timeout."""
        return wait_until(condition, timeout, what, interval, check=self._check_alive,
                          details=lambda: f"child log:\n{self.log_tail()}")

    def _check_alive(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"the Flink child exited:\n{self.log_tail()}")

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


__all__ = ["FlinkChild"]
