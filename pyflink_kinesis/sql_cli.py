"""The ``sql`` verb of ``pyflink-kinesis``: Flink's SQL client, from the installed apache-flink, against the
cluster of ``pyflink-kinesis cluster up``, with this package's connector jar on its classpath."""

from __future__ import annotations

import argparse
import subprocess
from typing import Any

from .cluster import flink_home
from .cluster_cli import _reporting, _running
from .flink_jar import connector_jar


def sql_client_command(file: str | None = None, init: str | None = None) -> list[str]:
    """``bin/sql-client.sh embedded --jar <connector jar> [-i INIT] [-f FILE]``."""
    command = ["bash", str(flink_home() / "bin" / "sql-client.sh"), "embedded", "--jar", str(connector_jar())]
    if init:
        command += ["-i", init]
    if file:
        command += ["-f", file]
    return command


@_reporting
def cmd_sql(args: argparse.Namespace) -> int:
    cluster = _running(args)
    env = cluster.environment("sql-client")
    env.pop("STD_REDIRECT_TO_FILE", None)  # the client talks to the terminal
    return subprocess.run(sql_client_command(args.file, args.init), env=env).returncode


def register(sub: Any) -> None:
    """Add the ``sql`` sub-command to the CLI's sub-parsers."""
    s = sub.add_parser("sql", help="Flink's SQL client on the running cluster, with 'pyflink-kinesis' tables")
    s.add_argument("-f", "--file", help="run this SQL script and exit (default: an interactive shell)")
    s.add_argument("-i", "--init", help="an SQL script run first (CREATE TABLE statements, SET ...)")
    s.add_argument("--dir", help="the cluster's state folder (default ~/.cache/pyflink-kinesis/cluster)")
    s.set_defaults(run=cmd_sql)
