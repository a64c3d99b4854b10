"""Where the Flink distribution is (the installed apache-flink wheel) and what goes wrong with a cluster."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

LOOPBACK = "127.0.0.1"
STATE_FILE = "cluster.json"  # in the state folder: the processes of a running cluster
FLINK_DIST = re.compile(r"^flink-dist(?:_[0-9.]+)?-(\d+\.\d+[^/]*)\.jar$")


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


class ClusterPlaces:
    """Where a cluster's files are (its state folder) and where its REST API answers."""

    state_dir: Path
    rest_port: int

    @property
    def conf_dir(self) -> Path:
        """The generated Flink configuration (``FLINK_CONF_DIR``)."""
        return self.state_dir / "conf"

    @property
    def log_dir(self) -> Path:
        """The processes' logs (``FLINK_LOG_DIR``)."""
        return self.state_dir / "log"

    @property
    def rest_url(self) -> str:
        """The REST API and web UI address, e.g. ``http://127.0.0.1:8081``."""
        return f"http://{LOOPBACK}:{self.rest_port}"
