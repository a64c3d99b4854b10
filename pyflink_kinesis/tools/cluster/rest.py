"""The JobManager's REST API: jobs, their state, failures and checkpoints (a mixin of
:class:`~.cluster.FlinkCluster`, which knows the address)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any, Mapping, Optional, Sequence

from .home import ClusterError, ClusterPlaces


class ClusterRest(ClusterPlaces):
    """Calls to the cluster's REST API (``rest_url``)."""

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
