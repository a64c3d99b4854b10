"""A standalone Flink cluster on 127.0.0.1, run from the installed apache-flink wheel (:class:`FlinkCluster`).

One file per concern: where Flink is (:mod:`.home`), the cluster's configuration and state (:mod:`.cluster`), its
processes (:mod:`.processes`), its REST API (:mod:`.rest`) and jobs through ``bin/flink`` (:mod:`.jobs`).
"""

from .cluster import FlinkCluster
from .home import LOOPBACK, ClusterError, flink_home, home_flink_version
from .jobs import JOB_ID, SAVEPOINT_PATH

__all__ = ["FlinkCluster", "ClusterError", "flink_home", "home_flink_version", "JOB_ID", "LOOPBACK", "SAVEPOINT_PATH"]
