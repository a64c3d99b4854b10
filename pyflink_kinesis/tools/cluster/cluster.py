"""A standalone Flink cluster on 127.0.0.1, run from the installed apache-flink wheel.

The wheel's ``pyflink`` folder is a usable FLINK_HOME (``bin/``, ``conf/``, ``lib/``, ``opt/``). The cluster's
configuration, logs, checkpoints and savepoints live in a state folder (``~/.cache/pyflink-kinesis/cluster`` by
default), and ``FLINK_CONF_DIR`` points at the generated configuration, so the wheel's files are never modified.
Every process is started here in the foreground of its own session and recorded in ``cluster.json``, so that
:meth:`FlinkCluster.stop` (``pyflink-kinesis cluster down``) ends each of them and the Python workers they
spawned.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Mapping, Optional

from ..local import cache_dir, free_port, port_is_free
from .home import LOOPBACK, STATE_FILE, ClusterError, flink_home
from .jobs import ClusterJobs
from .processes import ClusterProcesses
from .rest import ClusterRest



def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(value, dict):
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, item in value.items():
        out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    return out


class FlinkCluster(ClusterProcesses, ClusterRest, ClusterJobs):
    """A standalone Flink session cluster (one JobManager, N TaskManagers) on 127.0.0.1.

    Use it as a context manager in tests::

        with FlinkCluster(taskmanagers=2, slots=2, rest_port=0) as cluster:
            job_id = cluster.submit("job.py", detached=True)

    Args:
        state_dir: Folder for the generated configuration, logs, checkpoints and savepoints
            (default ``~/.cache/pyflink-kinesis/cluster``).
        taskmanagers: How many TaskManagers to start.
        slots: Task slots per TaskManager.
        rest_port: The REST API and web UI port (0 picks a free one).
        rpc_port: The JobManager's RPC port (0 picks a free one).
        checkpoint_dir: Where checkpoints go (default ``state_dir/checkpoints``).
        savepoint_dir: Where savepoints go by default (default ``state_dir/savepoints``).
        jobmanager_memory: ``jobmanager.memory.process.size``.
        taskmanager_memory: ``taskmanager.memory.process.size`` of each TaskManager.
        config: More Flink configuration keys (flat, e.g. ``{"restart-strategy.type": "fixed-delay"}``);
            they win over the defaults here, but never over the loopback addresses.
        exit_with_parent: End the cluster's processes when this Python process ends, even if it is killed
            (``pyflink-kinesis cluster up`` sets False to leave it running).
        startup_timeout: Seconds to wait until every TaskManager has registered.
    """

    def __init__(
        self,
        state_dir: Optional[os.PathLike[str] | str] = None,
        taskmanagers: int = 1,
        slots: int = 2,
        rest_port: int = 8081,
        rpc_port: int = 6123,
        checkpoint_dir: Optional[os.PathLike[str] | str] = None,
        savepoint_dir: Optional[os.PathLike[str] | str] = None,
        jobmanager_memory: str = "1g",
        taskmanager_memory: str = "1280m",
        config: Optional[Mapping[str, Any]] = None,
        exit_with_parent: bool = True,
        startup_timeout: float = 180.0,
    ) -> None:
        if taskmanagers < 1 or slots < 1:
            raise ClusterError(f"a cluster needs at least 1 TaskManager and 1 slot, not {taskmanagers} and {slots}")
        self.state_dir = Path(state_dir or cache_dir() / "cluster").resolve()
        self.taskmanagers = taskmanagers
        self.slots = slots
        self.rest_port = rest_port
        self.rpc_port = rpc_port
        self.checkpoint_dir = Path(checkpoint_dir or self.state_dir / "checkpoints").resolve()
        self.savepoint_dir = Path(savepoint_dir or self.state_dir / "savepoints").resolve()
        self.jobmanager_memory = jobmanager_memory
        self.taskmanager_memory = taskmanager_memory
        self.extra_config = dict(config or {})
        self.exit_with_parent = exit_with_parent
        self.startup_timeout = startup_timeout
        self.processes: list[dict[str, Any]] = []  # {"name", "pid"}
        self._children: dict[int, subprocess.Popen[bytes]] = {}
        self._starting: set[int] = set()  # pids launched and not yet seen registered

    # --- configuration ----------------------------------------------------------------------------

    def configuration(self) -> dict[str, Any]:
        """The flat Flink configuration written to ``conf/config.yaml``: the wheel's, then ours."""
        import yaml

        home = flink_home()
        conf = _flatten(yaml.safe_load((home / "conf" / "config.yaml").read_text()) or {})
        conf.update({
            "taskmanager.numberOfTaskSlots": self.slots,
            "parallelism.default": 1,
            "jobmanager.memory.process.size": self.jobmanager_memory,
            "taskmanager.memory.process.size": self.taskmanager_memory,
            # Python workers run outside the JVM; a smaller managed share leaves the Java operators heap.
            "taskmanager.memory.managed.fraction": 0.25,
            # Each PyFlink job loads the connector and flink-python classes anew and not all are freed when it
            # ends: with the default 256m a TaskManager died of "OutOfMemoryError: Metaspace" after ~5 jobs.
            "taskmanager.memory.jvm-metaspace.size": "384m",
            "execution.checkpointing.dir": self.checkpoint_dir.as_uri(),
            "io.tmp.dirs": str(self.state_dir / "tmp"),
            "execution.checkpointing.savepoint-dir": self.savepoint_dir.as_uri(),
            "state.backend.type": "hashmap",
        })
        conf.update(self.extra_config)
        conf.update({  # loopback only, whatever config says
            "jobmanager.rpc.address": LOOPBACK,
            "jobmanager.rpc.port": self.rpc_port,
            "jobmanager.bind-host": LOOPBACK,
            "rest.address": LOOPBACK,
            "rest.bind-address": LOOPBACK,
            "rest.port": self.rest_port,
            "taskmanager.host": LOOPBACK,
            "taskmanager.bind-host": LOOPBACK,
        })
        return conf

    def _write_conf(self) -> None:
        import yaml

        home = flink_home()
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        for f in (home / "conf").iterdir():
            if f.name.startswith(("log4j", "logback")):
                shutil.copyfile(f, self.conf_dir / f.name)
        (self.conf_dir / "config.yaml").write_text(yaml.safe_dump(self.configuration(), sort_keys=True))
        for d in (self.log_dir, self.checkpoint_dir, self.savepoint_dir, self.state_dir / "pid", self.state_dir / "tmp"):
            d.mkdir(parents=True, exist_ok=True)

    def environment(self, ident: str = "client") -> dict[str, str]:
        """The environment of Flink's scripts: FLINK_HOME is the wheel, everything written goes to the state folder."""
        env = dict(os.environ)
        env.update(
            FLINK_HOME=str(flink_home()),
            FLINK_CONF_DIR=str(self.conf_dir),
            FLINK_LOG_DIR=str(self.log_dir),
            FLINK_PID_DIR=str(self.state_dir / "pid"),
            FLINK_IDENT_STRING=ident,
            STD_REDIRECT_TO_FILE="true",  # stdout/err in log_dir/*.out and *.err
        )
        return env

    def start(self) -> "FlinkCluster":
        """Write the configuration, start the JobManager and TaskManagers, wait until all have registered.

        Raises ClusterError if a port is busy, a cluster already runs from this state folder, or a process
        fails to come up (with the end of its log).
        """
        if self.processes:
            return self
        running = FlinkCluster.attach(self.state_dir)
        if running is not None and running.alive():
            raise ClusterError(f"a Flink cluster from {self.state_dir} is already running ({running.rest_url}); "
                               "stop it with 'pyflink-kinesis cluster down' or use another --dir")
        self.rest_port = self.rest_port or free_port()
        self.rpc_port = self.rpc_port or free_port()
        for port, what, option in ((self.rest_port, "REST/web UI", "--rest-port"),
                                   (self.rpc_port, "JobManager RPC", "--rpc-port")):
            if not port_is_free(port):
                raise ClusterError(f"port {port} on {LOOPBACK} ({what}) is in use, perhaps by another Flink cluster; "
                                   f"stop what holds it or pick another port with {option}")
        self._write_conf()
        try:
            self._launch("jobmanager", "jobmanager.sh")
            for _ in range(self.taskmanagers):
                self.add_taskmanager(wait=False)
            self.wait_for_taskmanagers(self.taskmanagers)
        except BaseException:
            self.stop()
            raise
        return self

    def __enter__(self) -> "FlinkCluster":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- state file (the CLI starts and stops from different processes) -----------------------------

    def _save(self) -> None:
        state = {"state_dir": str(self.state_dir), "rest_port": self.rest_port, "rpc_port": self.rpc_port,
                 "taskmanagers": self.taskmanagers, "slots": self.slots, "checkpoint_dir": str(self.checkpoint_dir),
                 "savepoint_dir": str(self.savepoint_dir), "processes": self.processes}
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / STATE_FILE).write_text(json.dumps(state, indent=2))

    @classmethod
    def attach(cls, state_dir: Optional[os.PathLike[str] | str] = None) -> Optional["FlinkCluster"]:
        """The cluster recorded in ``state_dir`` (by ``start``), or None if there is none."""
        folder = Path(state_dir or cache_dir() / "cluster").resolve()
        try:
            state = json.loads((folder / STATE_FILE).read_text())
        except (OSError, ValueError):
            return None
        cluster = cls(folder, taskmanagers=state["taskmanagers"], slots=state["slots"], rest_port=state["rest_port"],
                      rpc_port=state["rpc_port"], checkpoint_dir=state["checkpoint_dir"],
                      savepoint_dir=state["savepoint_dir"], exit_with_parent=False)
        cluster.processes = state["processes"]
        return cluster

    def status(self) -> dict[str, Any]:
        """Where everything is, which processes live, and the jobs (what ``cluster status`` prints)."""
        out: dict[str, Any] = {
            "rest": self.rest_url, "web_ui": self.rest_url,
            "processes": [{**p, "alive": self._is_ours(p["pid"])} for p in self.processes],
            "logs": str(self.log_dir), "conf": str(self.conf_dir),
            "checkpoints": str(self.checkpoint_dir), "savepoints": str(self.savepoint_dir),
        }
        try:
            out["taskmanagers_registered"] = self.rest("/overview")["taskmanagers"]
            out["jobs"] = [{"id": j["jid"], "name": j["name"], "state": j["state"]}
                           for j in self.rest("/jobs/overview")["jobs"]]
        except ClusterError as e:
            out["rest_error"] = str(e)
        return out

    def log_tail(self, name: str, lines: int = 40) -> str:
        """The end of the newest log of the process ``name`` (``jobmanager``, ``taskmanager-1``, ...)."""
        logs = sorted(self.log_dir.glob(f"flink-{name}-*.log"), key=lambda f: f.stat().st_mtime)
        logs += [self.log_dir / f"{name}.launch.log"]
        text = "\n".join(f.read_text(errors="replace") for f in logs if f.is_file())
        return "\n".join(text.splitlines()[-lines:]) or f"(no log in {self.log_dir})"
