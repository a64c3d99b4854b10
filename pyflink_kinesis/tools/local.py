"""The embedded local Kinesis: the pinned npm emulator (kinesis-local), on 127.0.0.1 only."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any, Optional

from ..spec.credentials import AwsCredentials
from ..spec.region import AwsRegion

EMULATOR_PACKAGE = "kinesis-local"
PACKAGE_DIR = Path(__file__).parent / "emulator"
LOCAL_REGION = "us-east-1"
# The emulator accepts any key; these are not secrets.
LOCAL_CREDENTIALS = AwsCredentials.basic("local", "local")


class EmulatorError(RuntimeError):
    """The local Kinesis could not be installed or started; the message says why and what to do."""


def cache_dir() -> Path:
    """The user cache directory of pyflink-kinesis (``$PYFLINK_KINESIS_CACHE`` or ``~/.cache/pyflink-kinesis``)."""
    base = os.environ.get("PYFLINK_KINESIS_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pyflink-kinesis"
    )
    return Path(base)


def install_locked(package_dir: Path, package: str) -> Path:
    """Install the npm ``package`` pinned by ``package_dir``'s package.json and package-lock.json.

    It goes with ``npm ci`` (exact versions, integrity-checked, no install scripts) into the cache
    directory, once per lockfile; returns the installed package's folder.
    """
    lock = (package_dir / "package-lock.json").read_bytes()
    target = cache_dir() / "emulator" / hashlib.sha256(lock).hexdigest()[:12]
    installed = target / "node_modules" / package
    if (installed / "package.json").is_file():
        return installed
    npm = shutil.which("npm")
    if npm is None:
        raise EmulatorError(f"npm was not found on PATH; install Node.js 20 with npm to install {package}")
    target.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(package_dir / name, target / name)
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=target, capture_output=True, text=True
    )
    if result.returncode != 0 or not (installed / "package.json").is_file():
        raise EmulatorError(f"npm ci of {package} failed in {target}:\n{result.stdout}{result.stderr}")
    return installed


def emulator_main() -> Path:
    """Path of the emulator's ``main.js``, installing the pinned version with ``npm ci`` on first use.

    ``$PYFLINK_KINESIS_EMULATOR`` may point to an installed ``kinesis-local`` folder instead.
    """
    override = os.environ.get("PYFLINK_KINESIS_EMULATOR")
    folder = Path(override) if override else install_locked(PACKAGE_DIR, EMULATOR_PACKAGE)
    main = folder / "main.js"
    if not main.is_file():
        raise EmulatorError(f"{folder} has no main.js of {EMULATOR_PACKAGE}")
    return main


def port_is_free(port: int) -> bool:
    """True when nothing listens on ``port`` of 127.0.0.1."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as node does: TIME_WAIT is no conflict
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalKinesis:
    """Starts and stops the local Kinesis emulator on 127.0.0.1.

    Use it as a context manager::

        with LocalKinesis() as kinesis:
            client = kinesis.client()
            spec = builder.with_aws_region(kinesis.region).with_aws_credentials(kinesis.credentials)

    Args:
        port: Plain HTTP port (0 picks a free one).
        tls_port: HTTPS port with the emulator's self-signed certificate (0 picks a free one).
        persist_path: A folder to persist streams in, so they survive a restart; ``None`` keeps them in memory.
        persist_interval: How often the emulator writes its streams to ``persist_path`` (e.g. ``"100ms"``,
            ``"5s"``); it also writes them when stopped. Each write serializes every stream: long intervals
            spare the CPU when streams hold many records.
        shard_limit: The most shards the emulator allows.
        startup_timeout: Seconds to wait until it answers.
        log_path: Where its output goes (default: a file in the cache directory).
        exit_with_parent: End the emulator when this Python process ends, even if it is killed
            (``pyflink-kinesis local up`` sets False to leave it running).
    """

    def __init__(
        self,
        port: int = 0,
        tls_port: int = 0,
        persist_path: Optional[str] = None,
        persist_interval: str = "100ms",
        shard_limit: int = 200,
        startup_timeout: float = 60.0,
        log_path: Optional[str] = None,
        exit_with_parent: bool = True,
    ) -> None:
        self.port = port or free_port()
        self.tls_port = tls_port or free_port()
        self.persist_path = persist_path
        self.persist_interval = persist_interval
        self.shard_limit = shard_limit
        self.startup_timeout = startup_timeout
        self.log_path = Path(log_path) if log_path else cache_dir() / "logs" / f"kinesis-local-{self.port}.log"
        self.exit_with_parent = exit_with_parent
        self._process: Optional[subprocess.Popen[bytes]] = None

    @property
    def endpoint(self) -> str:
        """The plain HTTP endpoint, e.g. ``http://127.0.0.1:4568``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def tls_endpoint(self) -> str:
        """The HTTPS endpoint (self-signed certificate)."""
        return f"https://127.0.0.1:{self.tls_port}"

    @property
    def region(self) -> AwsRegion:
        """An AwsRegion pointing at the emulator's plain endpoint, declared an emulator (``aws.emulator``)."""
        return AwsRegion.of_custom_endpoint(self.endpoint, LOCAL_REGION, emulator=True)

    @property
    def credentials(self) -> AwsCredentials:
        """Dummy credentials the emulator accepts."""
        return LOCAL_CREDENTIALS

    def environment(self) -> dict[str, str]:
        """The emulator's environment: ports, fast state changes, quiet logs, optional persistence."""
        env = dict(os.environ)
        env.update(
            KINESIS_MOCK_PLAIN_PORT=str(self.port),
            KINESIS_MOCK_TLS_PORT=str(self.tls_port),
            LOG_LEVEL="ERROR",
            ROOT_LOG_LEVEL="ERROR",
            SHARD_LIMIT=str(self.shard_limit),
            AWS_REGION=LOCAL_REGION,
        )
        env.pop("PYFLINK_KINESIS_PARENT_PID", None)
        if self.exit_with_parent:
            env["PYFLINK_KINESIS_PARENT_PID"] = str(os.getpid())
        for op in ("CREATE_STREAM", "DELETE_STREAM", "SPLIT_SHARD", "MERGE_SHARDS", "UPDATE_SHARD_COUNT",
                   "REGISTER_STREAM_CONSUMER", "DEREGISTER_STREAM_CONSUMER", "UPDATE_STREAM_MODE"):
            env[f"{op}_DURATION"] = "0ms"
        if self.persist_path:
            env.update(SHOULD_PERSIST_DATA="true", LOAD_DATA_IF_EXISTS="true",
                       PERSIST_PATH=str(Path(self.persist_path).resolve()), PERSIST_INTERVAL=self.persist_interval)
        return env

    def start(self) -> "LocalKinesis":
        """Start the emulator and wait until it answers; raises EmulatorError with its log if it does not."""
        if self._process is not None:
            return self
        for port in (self.port, self.tls_port):
            if not port_is_free(port):
                raise EmulatorError(f"port {port} on 127.0.0.1 is in use; stop what holds it or pick another port")
        main = emulator_main()
        node = shutil.which("node")
        if node is None:
            raise EmulatorError("node was not found on PATH; install Node.js 20 to run the local Kinesis")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(
                [node, "-r", str(PACKAGE_DIR / "loopback.js"), str(main)],
                cwd=main.parent,  # it reads its TLS certificate (server.json) from here
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EmulatorError(f"the local Kinesis exited with {self._process.returncode}:\n{self._log_tail()}")
            if self.healthy():
                return self
            time.sleep(0.1)
        self.stop()
        raise EmulatorError(f"the local Kinesis did not answer within {self.startup_timeout:.0f} s:\n{self._log_tail()}")

    def healthy(self) -> bool:
        """True when the emulator answers its health check."""
        try:
            with urllib.request.urlopen(f"{self.endpoint}/healthcheck", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the emulator (its persisted data, if any, stays).

        Args:
            timeout: Seconds to wait for it to end after SIGTERM (it writes its streams first when it
                persists them) before it is killed; without ``persist_path`` it is killed at once.
        """
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        if not self.persist_path:  # nothing to write; it takes its full timeout to end after SIGTERM
            timeout = 0
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    @property
    def pid(self) -> Optional[int]:
        """The emulator's process id while it runs."""
        return self._process.pid if self._process else None

    def client(self, **config: Any) -> Any:
        """A boto3 Kinesis client for the emulator.

        Args:
            config: botocore ``Config`` arguments, e.g. ``retries={"max_attempts": 0}``.
        """
        import boto3
        from botocore.config import Config

        return boto3.client(
            "kinesis",
            endpoint_url=self.endpoint,
            region_name=LOCAL_REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(**config) if config else None,
        )

    def state(self) -> dict[str, Any]:
        """What ``pyflink-kinesis local status`` prints."""
        return {"pid": self.pid, "endpoint": self.endpoint, "tls_endpoint": self.tls_endpoint, "region": LOCAL_REGION}

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> "LocalKinesis":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_for_stream(client: Any, stream: str, timeout: float = 30.0) -> dict[str, Any]:
    """Wait until ``stream`` is ACTIVE and return its DescribeStreamSummary description."""
    deadline = time.monotonic() + timeout
    while True:
        summary = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        if summary["StreamStatus"] == "ACTIVE":
            return summary
        if time.monotonic() > deadline:
            raise TimeoutError(f"stream {stream} is still {summary['StreamStatus']} after {timeout:.0f} s")
        time.sleep(0.05)


def create_stream(client: Any, stream: str, shards: int = 1, timeout: float = 30.0) -> dict[str, Any]:
    """Create ``stream`` if it does not exist and wait until it is ACTIVE."""
    try:
        client.create_stream(StreamName=stream, ShardCount=shards)
    except client.exceptions.ResourceInUseException:
        pass
    return wait_for_stream(client, stream, timeout)


__all__ = ["LocalKinesis", "EmulatorError", "create_stream", "wait_for_stream", "cache_dir"]
