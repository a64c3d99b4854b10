"""Jobs on the cluster through ``bin/flink``: submit a PyFlink job with the connector jar, take savepoints,
cancel (a mixin of :class:`~.cluster.FlinkCluster`, which provides the scripts' environment)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from ...flink.jar import ConnectorJarMissing, connector_jar
from .home import ClusterError, ClusterPlaces, flink_home, home_flink_version

JOB_ID = re.compile(r"JobID ([0-9a-f]{32})")
SAVEPOINT_PATH = re.compile(r"(?:Savepoint completed|Savepoint stored in)\.?\s*(?:Path:\s*)?(\S+)")


class ClusterJobs(ClusterPlaces):
    """``flink run``, ``flink savepoint``/``stop`` and cancelling, against the cluster's configuration."""

    savepoint_dir: Path
    environment: Callable[[], dict[str, str]]  # FlinkCluster's
    rest: Callable[..., Any]  # ClusterRest's

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
        package_root = str(Path(__file__).resolve().parents[3])
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

        The connector jar built for the cluster's Flink goes along (``--jarfile``), the job's folder is shipped to
        the Python workers (``--pyFiles``), and the workers run ``python`` (default: this interpreter, so they
        import the same packages as this process).

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
