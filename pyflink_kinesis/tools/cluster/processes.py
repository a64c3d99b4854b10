"""The processes of a standalone cluster: started in their own sessions, recorded, and ended with every Python
worker they spawned (a mixin of :class:`~.cluster.FlinkCluster`, which holds the state these methods use)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Optional

from .home import STATE_FILE, ClusterError, ClusterPlaces, flink_home


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie (our own child, not yet reaped) is gone for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def _die_with_parent() -> None:
    """In the child, before exec: get SIGKILL when the starting process ends (Linux), so tests leave no JVM."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class ClusterProcesses(ClusterPlaces):
    """Starting, watching and ending the JobManager and TaskManagers of a :class:`~.cluster.FlinkCluster`."""

    processes: list[dict[str, Any]]
    _children: dict[int, "subprocess.Popen[bytes]"]
    _starting: set[int]
    exit_with_parent: bool
    startup_timeout: float
    environment: Callable[[str], dict[str, str]]  # FlinkCluster's
    log_tail: Callable[..., str]  # FlinkCluster's
    _save: Callable[[], None]  # FlinkCluster's
    rest: Callable[..., Any]  # ClusterRest's

    @property
    def taskmanager_pids(self) -> list[int]:
        """Process ids of the TaskManagers started here that are still alive."""
        return [p["pid"] for p in self.processes if p["name"].startswith("taskmanager") and _alive(p["pid"])]

    def _launch(self, name: str, script: str) -> int:
        home = flink_home()
        out = open(self.log_dir / f"{name}.launch.log", "ab")
        with out:
            process = subprocess.Popen(
                ["bash", str(home / "bin" / script), "start-foreground"],
                env=self.environment(name), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends the JVM and its Python workers
                preexec_fn=_die_with_parent if self.exit_with_parent else None,
            )
        self._children[process.pid] = process
        self._starting.add(process.pid)
        self.processes.append({"name": name, "pid": process.pid})
        self._save()
        return process.pid

    def add_taskmanager(self, wait: bool = True) -> int:
        """Start one more TaskManager (e.g. to replace a killed one, as a supervisor would); returns its pid."""
        count = sum(1 for p in self.processes if p["name"].startswith("taskmanager"))
        registered = self._registered_taskmanagers() if wait else 0
        pid = self._launch(f"taskmanager-{count + 1}", "taskmanager.sh")
        if wait:
            self.wait_for_taskmanagers(registered + 1)
        return pid

    def kill_taskmanager(self, index: int = 0, sig: int = signal.SIGKILL) -> int:
        """Send ``sig`` (SIGKILL: kill -9) to the ``index``-th live TaskManager JVM; returns its pid."""
        pids = self.taskmanager_pids
        if index >= len(pids):
            raise ClusterError(f"there are {len(pids)} live TaskManagers, no #{index}")
        os.kill(pids[index], sig)
        return pids[index]

    def wait_for_taskmanagers(self, count: int, timeout: Optional[float] = None) -> None:
        """Wait until ``count`` TaskManagers have registered with the JobManager."""
        deadline = time.monotonic() + (timeout or self.startup_timeout)
        while time.monotonic() < deadline:
            for p in self.processes:
                if p["pid"] in self._starting and not _alive(p["pid"]):
                    raise ClusterError(f"the {p['name']} exited while starting:\n{self.log_tail(p['name'])}")
            if self._registered_taskmanagers() >= count:
                self._starting.clear()
                return
            time.sleep(0.5)
        raise ClusterError(f"{count} TaskManager(s) did not register within {timeout or self.startup_timeout:.0f} s; "
                           f"logs in {self.log_dir}:\n{self.log_tail('jobmanager')}")

    def _registered_taskmanagers(self) -> int:
        try:
            return int(self.rest("/overview").get("taskmanagers", 0))
        except ClusterError:
            return 0

    def alive(self) -> bool:
        """True while any process started for this cluster runs."""
        return any(_alive(p["pid"]) for p in self.processes)

    def stop(self, timeout: float = 30.0) -> list[int]:
        """End every process started for this cluster (TaskManagers first, then the JobManager), with
        SIGTERM, then SIGKILL after ``timeout`` seconds; their Python workers go with their process groups.
        Returns the pids ended. Checkpoints, savepoints and logs stay."""
        ours = [p for p in self.processes if self._is_ours(p["pid"])]
        for group in ([p for p in ours if p["name"] != "jobmanager"], [p for p in ours if p["name"] == "jobmanager"]):
            for p in group:
                self._signal_group(p["pid"], signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while any(_alive(p["pid"]) for p in group) and time.monotonic() < deadline:
                self._reap()
                time.sleep(0.2)
        for pid in self._members():  # what is left, e.g. Python workers of a TaskManager killed earlier
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self._reap(wait=True)
        ended = [p["pid"] for p in ours]
        self.processes = []
        (self.state_dir / STATE_FILE).unlink(missing_ok=True)
        return ended

    def _is_ours(self, pid: int) -> bool:
        """The pid runs a Flink process with our configuration (not a recycled pid)."""
        if not _alive(pid):
            return False
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return pid in self._children
        return str(self.conf_dir).encode() in cmdline or pid in self._children

    def _members(self) -> list[int]:
        """Live processes in the process groups of our processes that run with our configuration (FLINK_CONF_DIR
        is inherited by Python workers): a group whose leader is gone is never signalled as a whole."""
        groups = {p["pid"] for p in self.processes}
        marker = f"FLINK_CONF_DIR={self.conf_dir}".encode()
        members = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                pgid = int((entry / "stat").read_text().rsplit(") ", 1)[1].split()[2])
                if pgid in groups and marker in (entry / "environ").read_bytes().split(b"\0"):
                    members.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
        return members

    @staticmethod
    def _signal_group(pid: int, sig: int) -> None:
        try:
            os.killpg(pid, sig)  # each process leads its own session, so its group id is its pid
        except OSError:
            pass

    def _reap(self, wait: bool = False) -> None:
        for pid, process in list(self._children.items()):
            try:
                if process.wait(timeout=10 if wait else 0) is not None:
                    del self._children[pid]
            except subprocess.TimeoutExpired:
                pass
