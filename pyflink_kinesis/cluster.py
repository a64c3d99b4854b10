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
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

from .flink_jar import ConnectorJarMissing, connector_jar
from .local import cache_dir, free_port, port_is_free

LOOPBACK = "127.0.0.1"
STATE_FILE = "cluster.json"
JOB_ID = re.compile(r"JobID ([0-9a-f]{32})")
FLINK_DIST = re.compile(r"^flink-dist(?:_[0-9.]+)?-(\d+\.\d+[^/]*)\.jar$")
SAVEPOINT_PATH = re.compile(r"(?:Savepoint completed|Savepoint stored in)\.?\s*(?:Path:\s*)?(\S+)")


class ClusterError(RuntimeError):
    """The Flink cluster could not be started, reached or used; the message says why and what to do."""


def flink_home() -> Path:
    """The Flink distribution inside the installed apache-flink wheel (``site-packages/pyflink``)."""
    try:
        import pyflink
    except ImportError as e:
        raise ClusterError("apache-flink is not installed; pip install 'pyflink-kinesis[flink]'") from e
    home = Path(pyflink.__file__).parent
    if not (home / "bin" / "flink").is_file() or not (home / "lib").is_dir():
        raise ClusterError(f"{home} is not a Flink distribution (no bin/flink or lib/); reinstall apache-flink")
    return home


def home_flink_version(home: Optional[Path] = None) -> str:
    """The Flink version of the distribution at ``home`` (default: :func:`flink_home`), from its flink-dist jar."""
    home = home or flink_home()
    for jar in (home / "lib").glob("flink-dist*.jar"):
        match = FLINK_DIST.match(jar.name)
        if match:
            return match.group(1)
    raise ClusterError(f"{home / 'lib'} holds no flink-dist-<version>.jar: not a Flink distribution")


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(value, dict):
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, item in value.items():
        out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    return out


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


class FlinkCluster:
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

    # --- where things are -------------------------------------------------------------------------

    @property
    def conf_dir(self) -> Path:
        return self.state_dir / "conf"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "log"

    @property
    def rest_url(self) -> str:
        """The REST API and web UI address, e.g. ``http://127.0.0.1:8081``."""
        return f"http://{LOOPBACK}:{self.rest_port}"

    @property
    def taskmanager_pids(self) -> list[int]:
        """Process ids of the TaskManagers started here that are still alive."""
        return [p["pid"] for p in self.processes if p["name"].startswith("taskmanager") and _alive(p["pid"])]

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

    # --- lifecycle --------------------------------------------------------------------------------

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

    # --- REST ---------------------------------------------------------------------------------------

    def rest(self, path: str, method: str = "GET", body: Optional[Mapping[str, Any]] = None,
             timeout: float = 10.0) -> Any:
        """Call the JobManager's REST API and return the decoded JSON answer."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.rest_url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as e:
            raise ClusterError(f"{method} {path}: HTTP {e.code}: {e.read().decode(errors='replace')[:500]}") from e
        except OSError as e:
            raise ClusterError(f"the Flink REST API at {self.rest_url} does not answer ({e}); "
                               "is the cluster up? ('pyflink-kinesis cluster status')") from e

    def job(self, job_id: str) -> dict[str, Any]:
        """The job's details (``/jobs/<id>``): ``state``, ``vertices``, ..."""
        return self.rest(f"/jobs/{job_id}")

    def wait_for_job(self, job_id: str, states: Sequence[str] = ("RUNNING",), timeout: float = 120.0,
                     all_tasks_running: bool = True) -> dict[str, Any]:
        """Wait until the job is in one of ``states`` (and, for RUNNING, every task runs); returns its details."""
        deadline = time.monotonic() + timeout
        details: dict[str, Any] = {}
        while time.monotonic() < deadline:
            try:
                details = self.job(job_id)
            except ClusterError:
                time.sleep(0.5)
                continue
            if details["state"] in states:
                tasks = [v["status"] for v in details.get("vertices", [])]
                if details["state"] != "RUNNING" or not all_tasks_running or all(t == "RUNNING" for t in tasks):
                    return details
            if details["state"] in ("FAILED", "CANCELED") and details["state"] not in states:
                raise ClusterError(f"job {job_id} is {details['state']}: {self.job_exception(job_id)}")
            time.sleep(0.5)
        raise ClusterError(f"job {job_id} did not reach {'/'.join(states)} within {timeout:.0f} s "
                           f"(it is {details.get('state', 'unknown')})")

    def job_exception(self, job_id: str) -> str:
        """The root exception of the job's latest failure, or ''."""
        try:
            history = self.rest(f"/jobs/{job_id}/exceptions").get("exceptionHistory", {}).get("entries", [])
        except ClusterError:
            return ""
        return history[0].get("stacktrace", "")[:3000] if history else ""

    def checkpoints(self, job_id: str) -> dict[str, Any]:
        """The job's checkpoint statistics (``/jobs/<id>/checkpoints``): counts, latest completed and restored."""
        return self.rest(f"/jobs/{job_id}/checkpoints")

    def failures(self, job_id: str) -> int:
        """How many times the job failed (its exception history); each failure is followed by a restart from the
        last completed checkpoint while the restart strategy allows. Unlike the ``numRestarts`` metric, it is
        up to date at once."""
        return len(self.rest(f"/jobs/{job_id}/exceptions")["exceptionHistory"]["entries"])

    # --- jobs ---------------------------------------------------------------------------------------

    def flink(self, *args: str, timeout: float = 600.0) -> subprocess.CompletedProcess[str]:
        """Run ``bin/flink`` against this cluster (through its generated configuration)."""
        return subprocess.run(["bash", str(flink_home() / "bin" / "flink"), *args], env=self.environment(),
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def submit_command(self, job: os.PathLike[str] | str, args: Sequence[str] = (), detached: bool = True,
                       from_savepoint: Optional[str] = None, parallelism: Optional[int] = None,
                       python: Optional[str] = None) -> list[str]:
        """The ``flink run`` arguments :meth:`submit` uses (see there)."""
        script = Path(job).resolve()
        if not script.is_file():
            raise ClusterError(f"{job}: no such job file")
        python = python or sys.executable
        command = ["run", "--python", str(script), "--pyFiles", str(script.parent),
                   "--pyExecutable", python, "--pyClientExecutable", python]
        try:  # the jar for the cluster's Flink; from_ingress / to_egress add it too, --jarfile also serves the rest
            command += ["--jarfile", str(connector_jar(home_flink_version()))]
        except ConnectorJarMissing:
            pass
        package_root = str(Path(__file__).resolve().parents[1])
        if not _imports_this_copy(python, package_root):  # e.g. a source checkout: workers import it from here
            command += ["-Dpython.pythonpath=" + package_root]
        if detached:
            command.append("--detached")
        if from_savepoint:
            command += ["--fromSavepoint", str(from_savepoint)]
        if parallelism:
            command += ["--parallelism", str(parallelism)]
        return command + list(args)

    def submit(self, job: os.PathLike[str] | str, args: Sequence[str] = (), detached: bool = True,
               from_savepoint: Optional[str] = None, parallelism: Optional[int] = None,
               python: Optional[str] = None, timeout: float = 600.0) -> str:
        """Submit a PyFlink job with ``flink run --python`` and return its job id.

        The connector jar built for the cluster's Flink goes along (``--jarfile``), the job's folder is
        shipped to the Python workers (``--pyFiles``), and the workers run ``python`` (default: this
        interpreter, so they import the same packages as this process).

        Args:
            job: The job's ``.py`` file.
            args: Arguments passed to the job script.
            detached: Return once the job is submitted (False waits until it ends).
            from_savepoint: A savepoint (or retained checkpoint) path to restore from.
            parallelism: The job's default parallelism.
            python: The Python interpreter of the client and the workers.
            timeout: Seconds to wait for ``flink run``.
        """
        result = self.flink(*self.submit_command(job, args, detached, from_savepoint, parallelism, python),
                            timeout=timeout)
        found = JOB_ID.search(result.stdout + result.stderr)
        if result.returncode != 0 or found is None:
            raise ClusterError(f"flink run of {job} failed (exit {result.returncode}):\n"
                               f"{(result.stdout + result.stderr)[-4000:]}")
        return found.group(1)

    def savepoint(self, job_id: str, stop: bool = False, directory: Optional[str] = None,
                  timeout: float = 300.0) -> str:
        """Take a savepoint of ``job_id`` (with ``stop``, stop the job with it) and return its path."""
        target = directory or str(self.savepoint_dir)
        args = ["stop", "--savepointPath", target, job_id] if stop else ["savepoint", job_id, target]
        result = self.flink(*args, timeout=timeout)
        found = SAVEPOINT_PATH.search(result.stdout)
        if result.returncode != 0 or found is None:
            raise ClusterError(f"flink {args[0]} of job {job_id} failed (exit {result.returncode}):\n"
                               f"{(result.stdout + result.stderr)[-4000:]}")
        return found.group(1)

    def cancel(self, job_id: str) -> None:
        """Cancel the job (no savepoint)."""
        self.rest(f"/jobs/{job_id}?mode=cancel", method="PATCH")


def _imports_this_copy(python: str, package_root: str) -> bool:
    """True when ``python``, without PYTHONPATH, imports pyflink_kinesis from ``package_root``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    probe = "import pyflink_kinesis, os; print(os.path.dirname(os.path.dirname(pyflink_kinesis.__file__)))"
    result = subprocess.run([python, "-c", probe], env=env, cwd="/", capture_output=True, text=True, timeout=60)
    return result.returncode == 0 and os.path.realpath(result.stdout.strip()) == os.path.realpath(package_root)


__all__ = ["FlinkCluster", "ClusterError", "flink_home", "home_flink_version"]
