"""The ``local`` verb of ``pyflink-kinesis``: the embedded local Kinesis as a background process that outlives the
command (``local up``), found again through a state file by ``local status|down`` and by ``streams``."""

from __future__ import annotations

import argparse
import json
import os
import signal
import time
from pathlib import Path
from typing import Any, Optional

from .local import LocalKinesis, cache_dir

STATE_FILE = "local-kinesis.json"


def state_path() -> Path:
    """The state file of the running local Kinesis (in the cache folder)."""
    return cache_dir() / STATE_FILE


def read_state() -> Optional[dict[str, Any]]:
    """What ``local up`` wrote (endpoint, pid, ports), or None."""
    try:
        return json.loads(state_path().read_text())
    except (OSError, ValueError):
        return None


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists."""
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def cmd_local(args: argparse.Namespace) -> int:
    state = read_state()
    running = state is not None and alive(state["pid"])
    if args.action == "status":
        if not running:
            print("local Kinesis: not running")
            return 3
        assert state is not None
        healthy = LocalKinesis(port=state["port"], tls_port=state["tls_port"]).healthy()
        print(json.dumps({**state, "healthy": healthy}, indent=2))
        return 0 if healthy else 1
    if args.action == "down":
        if not running:
            print("local Kinesis: not running")
        else:
            assert state is not None
            os.killpg(state["pid"], signal.SIGTERM)
            for _ in range(100):
                if not alive(state["pid"]):
                    break
                time.sleep(0.1)
            print(f"local Kinesis stopped (pid {state['pid']})")
        state_path().unlink(missing_ok=True)
        return 0
    if running:
        assert state is not None
        print(f"local Kinesis already running: {state['endpoint']} (pid {state['pid']})")
        return 0
    local = LocalKinesis(port=args.port, tls_port=args.tls_port, persist_path=args.persist,
                         exit_with_parent=False).start()
    state = {**local.state(), "port": local.port, "tls_port": local.tls_port, "log": str(local.log_path)}
    state_path().parent.mkdir(parents=True, exist_ok=True)
    state_path().write_text(json.dumps(state))
    print(f"local Kinesis running on {local.endpoint} (TLS {local.tls_endpoint}), region us-east-1, pid {local.pid}")
    print(f"  awsRegion: {{type: custom-endpoint, endpoint: {local.endpoint}, id: us-east-1}}")
    return 0


def register(sub: Any) -> None:
    """Add the ``local`` sub-command to the CLI's sub-parsers."""
    loc = sub.add_parser("local", help="the embedded local Kinesis on 127.0.0.1")
    loc.add_argument("action", choices=["up", "down", "status"])
    loc.add_argument("--port", type=int, default=4568, help="plain HTTP port (default 4568)")
    loc.add_argument("--tls-port", type=int, default=4567, help="HTTPS port (default 4567)")
    loc.add_argument("--persist", metavar="DIR", help="keep streams in DIR across restarts")
    loc.set_defaults(run=cmd_local)
