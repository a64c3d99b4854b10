"""The ``sql`` verb of ``pyflink-kinesis``: Flink's SQL client, from the installed apache-flink, against the
cluster of ``pyflink-kinesis cluster up``, with this package's connector jar on its classpath.

The apache-flink wheel ships the SQL client (``opt/flink-sql-client-*.jar``) but not the ``flink-sql-gateway`` jar
it needs to start; the package carries that jar beside the connector's (built from java/), and the client runs
with an ``opt/`` folder in the cluster's state folder that holds both.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path
from typing import Any

from .cluster import ClusterError, FlinkCluster, flink_home
from .cluster_cli import _reporting, _running
from ..flink.jar import connector_jar


def sql_client_command(file: str | None = None, init: str | None = None) -> list[str]:
    """``bin/sql-client.sh embedded --jar <connector jar> [-i INIT] [-f FILE]``."""
    command = ["bash", str(flink_home() / "bin" / "sql-client.sh"), "embedded", "--jar", str(connector_jar())]
    if init:
        command += ["-i", init]
    if file:
        command += ["-f", file]
    return command


def sql_opt_dir(cluster: FlinkCluster) -> Path:
    """The wheel's ``opt/`` jars plus the packaged ``flink-sql-gateway`` jar of the installed Flink's minor version
    (the client calls into the gateway of its own version), linked into ``<state folder>/sql-opt``."""
    from pyflink.version import __version__ as flink_version

    minor = ".".join(flink_version.split(".")[:2])
    gateway = connector_jar().parent / f"flink-sql-gateway-{minor}.jar"
    if not gateway.is_file():
        built = sorted(j.name for j in gateway.parent.glob("flink-sql-gateway-*.jar"))
        raise ClusterError(f"{gateway} is missing (the package has {built or 'none'}): Flink {flink_version}'s SQL client "
                           "needs the flink-sql-gateway of its version and the apache-flink wheel lacks it; "
                           "build the package's jars from java/ for this Flink version (`./dev test`, or "
                           "`cd java && mvn -B package`, then copy "
                           "java/target/sql-client/*.jar into pyflink_kinesis/jars/)")
    opt = cluster.state_dir / "sql-opt"
    opt.mkdir(parents=True, exist_ok=True)
    for jar in [*(flink_home() / "opt").glob("*.jar"), gateway]:
        link = opt / jar.name
        if not link.exists():
            os.symlink(jar, link)
    return opt


@_reporting
def cmd_sql(args: argparse.Namespace) -> int:
    cluster = _running(args)
    env = cluster.environment("sql-client")
    env.pop("STD_REDIRECT_TO_FILE", None)  # the client talks to the terminal
    env["FLINK_OPT_DIR"] = str(sql_opt_dir(cluster))
    return subprocess.run(sql_client_command(args.file, args.init), env=env).returncode


def register(sub: Any) -> None:
    """Add the ``sql`` sub-command to the CLI's sub-parsers."""
    s = sub.add_parser("sql", help="Flink's SQL client on the running cluster, with 'pyflink-kinesis' tables")
    s.add_argument("-f", "--file", help="run this SQL script and exit (default: an interactive shell)")
    s.add_argument("-i", "--init", help="an SQL script run first (CREATE TABLE statements, SET ...)")
    s.add_argument("--dir", help="the cluster's state folder (default ~/.cache/pyflink-kinesis/cluster)")
    s.set_defaults(run=cmd_sql)
