"""The child side of the PyFlink tests: runs jobs on a local MiniCluster, driven by JSON lines on stdin.

A job script (``tests/flink_jobs.py``, run as ``python tests/flink_jobs.py`` so that what it defines lives in
``__main__``, as in a user's job) calls :func:`serve` with its job builders. Each command line gets one answer
line on stdout, prefixed with ``@@ ``:

- ``{"cmd": "start", "job": NAME, "args": {...}, "config": {...}}``: builds the job on a fresh environment
  (Flink ``config`` such as ``execution.savepoint.path``), submits it; answers the job id.
- ``{"cmd": "stop_with_savepoint", "dir": DIR}``: answers the savepoint path.
- ``{"cmd": "cancel"}``, ``{"cmd": "wait", "timeout": S}``: waits for the job to end; answers its end state and,
  if it failed, the error text.
- ``{"cmd": "metric", "suffix": ".kinesis.deserialize_errors"}``: the sum of the job's metrics ending so (REST).
- ``{"cmd": "checkpoint", "timeout": S}``: triggers a checkpoint (REST) and answers its id once it completed.
- ``{"cmd": "done"}``: whether the job has ended.
- ``{"cmd": "heap"}``: the JVM's heap in use right after a ``System.gc()`` (live data), and its RSS (benchmarks).
- ``{"cmd": "exit"}``.

Every wait is bounded; the parent (:class:`~.flink_child.FlinkChild`) bounds each answer too.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
import urllib.request
from typing import Any, Callable, Dict, Optional

from ..tools.local import free_port

Builder = Callable[[Any, Dict[str, Any]], None]


BIND_ATTEMPTS = 3  # the job's REST port is picked free, and may be taken before the MiniCluster binds it


def _caused_by(error: Exception, java_class: str) -> bool:
    """True if ``error`` (a py4j ``Py4JJavaError``) has a Java exception of class ``java_class`` in its causes."""
    cause = getattr(error, "java_exception", None)
    while cause is not None:
        if cause.getClass().getName() == java_class:
            return True
        cause = cause.getCause()
    return False


class _Host:
    def __init__(self, jobs: Dict[str, Builder]) -> None:
        self.jobs = jobs
        self.client: Any = None
        self.rest_port: Optional[int] = None

    def start(self, job: str, args: Dict[str, Any], config: Dict[str, str]) -> Dict[str, Any]:
        from pyflink.common import Configuration
        from pyflink.datastream import StreamExecutionEnvironment

        if self.client is not None and not self.client._j_job_client.getJobExecutionResult().isDone():
            # the last test failed before it ended its job, which still holds the REST port
            self.client.cancel().result()
            self.wait(120)
        chosen = "rest.port" not in config  # else the caller's port, taken as it is
        attempt = 1
        while True:
            port = free_port() if chosen else int(config["rest.port"])
            conf = Configuration()
            for key, value in {**config, "rest.port": port}.items():
                conf.set_string(key, str(value))
            env = StreamExecutionEnvironment.get_execution_environment(conf)
            env.set_python_executable(sys.executable)
            self.jobs[job](env, args)
            try:
                self.client = env.execute_async(job)
                break
            except Exception as e:  # py4j's error; its Java exception's causes tell a lost port from the rest
                if not (chosen and attempt < BIND_ATTEMPTS and _caused_by(e, "java.net.BindException")):
                    raise
                attempt += 1  # another process took the free port before the MiniCluster bound it
        self.rest_port = port
        return {"job_id": str(self.client.get_job_id())}

    def status(self) -> str:
        return str(self.client.get_job_status().result()).split(".")[-1]

    def wait(self, timeout: float) -> Dict[str, Any]:
        # The execution result's future, not the job status: a local MiniCluster is gone once the job ends.
        future = self.client._j_job_client.getJobExecutionResult()
        deadline = time.monotonic() + timeout
        while not future.isDone():
            if time.monotonic() >= deadline:
                return {"status": self.status(), "timed_out": True}
            time.sleep(0.5)
        try:
            future.get()
        except Exception as e:  # the job's failure, with its causes (Python tracebacks included)
            text = str(e)
            return {"status": "CANCELED" if "JobCancellationException" in text else "FAILED", "error": text}
        return {"status": "FINISHED"}

    def stop_with_savepoint(self, directory: str) -> str:
        # PyFlink 2.2's JobClient.stop_with_savepoint calls a Java signature that no longer exists.
        from pyflink.java_gateway import get_gateway

        canonical = get_gateway().jvm.org.apache.flink.core.execution.SavepointFormatType.CANONICAL
        return str(self.client._j_job_client.stopWithSavepoint(False, directory, canonical).get())

    def metric(self, suffix: str) -> Dict[str, Any]:
        assert self.rest_port is not None, "start the job with config rest.port to read metrics"
        base = f"http://127.0.0.1:{self.rest_port}/jobs/{self.client.get_job_id()}"
        total, found = 0.0, []
        for vertex in _get(base)["vertices"]:
            url = f"{base}/vertices/{vertex['id']}/metrics"
            ids = [m["id"] for m in _get(url) if m["id"].endswith(suffix)]
            if ids:
                for m in _get(url + "?get=" + ",".join(ids)):
                    total += float(m["value"])
                    found.append(m["id"])
        return {"value": total, "metrics": found}

    def checkpoint(self, timeout: float) -> Dict[str, Any]:
        assert self.rest_port is not None, "start the job with config rest.port to trigger checkpoints"
        base = f"http://127.0.0.1:{self.rest_port}/jobs/{self.client.get_job_id()}/checkpoints"
        trigger = _post(base, {"checkpointType": "FULL"})["request-id"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = _get(f"{base}/{trigger}")
            if answer["status"]["id"] == "COMPLETED":
                operation = answer.get("operation") or {}
                if "checkpointId" not in operation:
                    raise RuntimeError(f"checkpoint failed: {operation.get('failure-cause')}")
                return {"checkpoint": operation["checkpointId"]}
            time.sleep(0.2)
        raise TimeoutError(f"checkpoint {trigger} did not complete within {timeout} s")

    def handle(self, cmd: Dict[str, Any]) -> Dict[str, Any]:
        kind = cmd["cmd"]
        if kind == "start":
            return self.start(cmd["job"], cmd.get("args", {}), cmd.get("config", {}))
        if kind == "stop_with_savepoint":
            return {"savepoint": self.stop_with_savepoint(cmd["dir"])}
        if kind == "cancel":
            self.client.cancel().result()
            return self.wait(cmd.get("timeout", 60))
        if kind == "wait":
            return self.wait(cmd.get("timeout", 60))
        if kind == "status":
            return {"status": self.status()}
        if kind == "metric":
            return self.metric(cmd["suffix"])
        if kind == "checkpoint":
            return self.checkpoint(cmd.get("timeout", 120))
        if kind == "done":
            return {"done": bool(self.client._j_job_client.getJobExecutionResult().isDone())}
        if kind == "heap":
            return _heap()
        raise ValueError(f"unknown command {kind!r}")


def _heap() -> Dict[str, Any]:
    from pyflink.java_gateway import get_gateway

    jvm = get_gateway().jvm
    jvm.java.lang.System.gc()
    management = jvm.java.lang.management.ManagementFactory
    used = management.getMemoryMXBean().getHeapMemoryUsage().getUsed()
    status = open(f"/proc/{management.getRuntimeMXBean().getPid()}/status").read().split("\n")
    kib = {line.split(":")[0]: int(line.split()[1]) for line in status if line.startswith(("VmRSS", "VmHWM"))}
    return {"heap_used_mb": used / 2**20, "rss_mb": kib.get("VmRSS", 0) / 1024, "hwm_mb": kib.get("VmHWM", 0) / 1024}


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _post(url: str, body: Dict[str, Any]) -> Any:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def serve(jobs: Dict[str, Builder]) -> None:
    """Answer commands from stdin until ``exit`` or end of input."""
    host = _Host(jobs)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] == "exit":
            break
        try:
            answer = host.handle(cmd)
        except Exception:
            answer = {"error": traceback.format_exc()}
        print("@@ " + json.dumps(answer), flush=True)
    if host.client is not None and not host.client._j_job_client.getJobExecutionResult().isDone():
        host.client.cancel().result()
