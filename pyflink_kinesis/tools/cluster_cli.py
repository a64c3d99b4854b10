"""The ``cluster``, ``submit`` and ``savepoint`` verbs of ``pyflink-kinesis`` (see :mod:`pyflink_kinesis.cluster`)."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from typing import Any, Callable

from .cluster import ClusterError, FlinkCluster

Command = Callable[[argparse.Namespace], int]


def _reporting(command: Command) -> Command:
    """ClusterError becomes ``error: ...`` on stderr and exit code 1, as the other verbs do for ConfigError."""
    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except ClusterError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
    return run


def _running(args: argparse.Namespace) -> FlinkCluster:
    cluster = FlinkCluster.attach(args.dir)
    if cluster is None or not cluster.alive():
        where = f" from {args.dir}" if args.dir else ""
        raise ClusterError(f"no Flink cluster{where} is running; start one with 'pyflink-kinesis cluster up'")
    return cluster


@_reporting
def cmd_cluster(args: argparse.Namespace) -> int:
    if args.action == "up":
        started = FlinkCluster(args.dir, taskmanagers=args.taskmanagers, slots=args.slots, rest_port=args.rest_port,
                               rpc_port=args.rpc_port, checkpoint_dir=args.checkpoint_dir,
                               savepoint_dir=args.savepoint_dir, jobmanager_memory=args.jobmanager_memory,
                               taskmanager_memory=args.taskmanager_memory, exit_with_parent=False).start()
        print(f"Flink cluster up: web UI and REST {started.rest_url}, "
              f"{args.taskmanagers} TaskManager(s) x {args.slots} slot(s)")
        print(f"  checkpoints {started.checkpoint_dir}\n  savepoints  {started.savepoint_dir}\n  logs        {started.log_dir}")
        return 0
    cluster = FlinkCluster.attach(args.dir)
    if cluster is None or not cluster.alive():
        print("Flink cluster: not running")
        if cluster is not None:
            cluster.stop()  # forget the state of a cluster whose processes are gone
        return 3 if args.action == "status" else 0
    if args.action == "status":
        status = cluster.status()
        print(json.dumps(status, indent=2))
        return 0 if "rest_error" not in status and all(p["alive"] for p in status["processes"]) else 1
    ended = cluster.stop()
    print(f"Flink cluster stopped ({len(ended)} process(es): {', '.join(map(str, ended))})")
    return 0


@_reporting
def cmd_submit(args: argparse.Namespace) -> int:
    cluster = _running(args)
    job_id = cluster.submit(args.job, args.job_args, detached=True, from_savepoint=args.from_savepoint,
                            parallelism=args.parallelism)
    print(f"job id: {job_id}")
    print(f"web UI: {cluster.rest_url}/#/job/running/{job_id}/overview")
    if args.detached:
        return 0
    details = cluster.wait_for_job(job_id, ("FINISHED", "FAILED", "CANCELED"), timeout=float("inf"))
    print(f"job {job_id}: {details['state']}")
    if details["state"] != "FINISHED":
        print(cluster.job_exception(job_id), file=sys.stderr)
        return 1
    return 0


@_reporting
def cmd_savepoint(args: argparse.Namespace) -> int:
    path = _running(args).savepoint(args.job_id, stop=args.stop, directory=args.target)
    print(f"savepoint: {path}")
    if args.stop:
        print(f"job {args.job_id} stopped; resume with: pyflink-kinesis submit JOB.py --from-savepoint {path}")
    return 0


class _JobArgsAfterDashes(argparse.ArgumentParser):
    """``submit JOB.py [options] -- job args``: everything after the first ``--`` is the job's, options or not."""

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        args = list(sys.argv[1:] if args is None else args)
        job_args = args[args.index("--") + 1:] if "--" in args else []
        namespace, extras = super().parse_known_args(args[:len(args) - len(job_args) - ("--" in args)], namespace)
        namespace.job_args = job_args
        return namespace, extras


def register(sub: Any) -> None:
    """Add the ``cluster``, ``submit`` and ``savepoint`` sub-commands to the CLI's sub-parsers."""
    dir_help = "the cluster's state folder (default ~/.cache/pyflink-kinesis/cluster)"
    c = sub.add_parser("cluster", help="a standalone Flink cluster on 127.0.0.1 from the installed apache-flink")
    c.add_argument("action", choices=["up", "down", "status"])
    c.add_argument("--dir", help=dir_help + ": configuration, logs, checkpoints, savepoints")
    c.add_argument("--taskmanagers", type=int, default=1, help="up: number of TaskManagers (default 1)")
    c.add_argument("--slots", type=int, default=2, help="up: task slots per TaskManager (default 2)")
    c.add_argument("--checkpoint-dir", help="up: checkpoint folder (default DIR/checkpoints)")
    c.add_argument("--savepoint-dir", help="up: default savepoint folder (default DIR/savepoints)")
    c.add_argument("--rest-port", type=int, default=8081, help="up: REST and web UI port (default 8081; 0: any free)")
    c.add_argument("--rpc-port", type=int, default=6123, help="up: JobManager RPC port (default 6123; 0: any free)")
    c.add_argument("--jobmanager-memory", default="1g", help="up: JobManager process size (default 1g)")
    c.add_argument("--taskmanager-memory", default="1280m",
                   help="up: process size of each TaskManager (default 1280m)")
    c.set_defaults(run=cmd_cluster)

    s = sub.add_parser("submit", help="submit a PyFlink job to the running cluster (flink run --python)",
                       usage="pyflink-kinesis submit JOB.py [--detached] [--from-savepoint PATH] [-p N] [-- job args]")
    s.add_argument("job", help="the job's .py file")
    s.add_argument("--detached", action="store_true", help="return once submitted (default: wait until it ends)")
    s.add_argument("--from-savepoint", metavar="PATH", help="restore from this savepoint or retained checkpoint")
    s.add_argument("--parallelism", "-p", type=int, help="the job's default parallelism")
    s.add_argument("--dir", help=dir_help)
    s.__class__ = _JobArgsAfterDashes  # argparse cannot mix options and a trailing "-- args" list otherwise
    s.set_defaults(run=cmd_submit)

    p = sub.add_parser("savepoint", help="take a savepoint of a running job (--stop: and stop it)")
    p.add_argument("job_id")
    p.add_argument("--stop", action="store_true", help="stop the job with the savepoint")
    p.add_argument("--target", metavar="DIR", help="savepoint folder (default: the cluster's)")
    p.add_argument("--dir", help=dir_help)
    p.set_defaults(run=cmd_savepoint)
