"""Shared fixtures: one local Kinesis emulator per test session, on 127.0.0.1, started by the tests."""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Dict, Iterator, List

import pytest

from pyflink_kinesis.testing import Streams
from pyflink_kinesis.tools.local import LocalKinesis

# The JVMs the tests start (PyFlink's MiniCluster gateway reads JVM_ARGS, and so do a standalone cluster's
# daemons) live a minute or two: C1 alone and one GC thread cost them about a third less CPU on 2 cores
# (tests/test_table_flink.py: 34-40 s of CPU instead of 50-61 s). A JVM_ARGS of the caller's own wins.
os.environ.setdefault("JVM_ARGS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")


@pytest.fixture(scope="session")
def kinesis() -> Iterator[LocalKinesis]:
    """The embedded local Kinesis (kinesis-local), started once for the session.

    Its shard limit is raised above the service's default: the whole suite creates a few hundred shards.
    """
    with LocalKinesis(shard_limit=2000) as local:
        yield local


@pytest.fixture
def client(kinesis: LocalKinesis) -> Any:
    """A boto3 Kinesis client for the local emulator."""
    return kinesis.client()


@pytest.fixture
def new_stream(kinesis: LocalKinesis, client: Any) -> Iterator[Callable[..., str]]:
    """Create a fresh ACTIVE stream with a unique name: ``new_stream(shards=2)`` returns its name.

    The streams are deleted after the test, so the session's emulator stays small.
    """
    made: list[str] = []

    def make(shards: int = 1, prefix: str = "test") -> str:
        name = Streams(client, prefix).new(shards)
        made.append(name)
        return name

    yield make
    for name in made:
        try:
            client.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
        except Exception:  # noqa: BLE001 - best effort: a stream a test deleted itself, or an emulator it stopped
            pass


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach real AWS: no ambient credentials or profiles leak in."""
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
                "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KINESIS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")



@pytest.fixture(autouse=True)
def _fresh_shard_listings() -> None:
    """Each test starts without the Beam reader's shared shard listings of earlier tests (a stream name and
    endpoint may come back with another fake client's answers)."""
    listing = sys.modules.get("beam_transforms.listing")
    if listing is not None:
        listing.SHARED.clear()


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No region or role from the environment unless a test sets one; no HTTP request leaves the process."""
    import botocore.httpsession

    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(var, raising=False)

    def no_network(self: Any, request: Any) -> Any:
        raise AssertionError(f"a test tried to reach {request.url}")

    monkeypatch.setattr(botocore.httpsession.URLLib3Session, "send", no_network)


def pytest_collection_modifyitems(config: Any, items: List[Any]) -> None:
    """Test modules with a standalone cluster first, then those with PyFlink jobs, then other slow ones, then the
    rest (each group in its usual order): with ``--dist loadfile`` the longest modules start first, and the short
    ones fill the workers' ends instead of one worker finishing a long module alone."""
    rank: Dict[str, int] = {}
    for item in items:
        module = item.nodeid.split("::")[0]
        kind = next((i for i, m in enumerate(("cluster", "flink", "slow")) if item.get_closest_marker(m)), 3)
        rank[module] = min(rank.get(module, 3), kind)
    items.sort(key=lambda item: rank[item.nodeid.split("::")[0]])  # stable: each module's tests stay in order


# Tests' figures (records in/out, duplicates, restarts, recovery time), kept across runs; see tests/figures.py.
@pytest.fixture(scope="module")
def flink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One child process running tests/flink_jobs.py's jobs for a test module, one after the other (a module
    with other jobs or another lifetime defines its own ``flink``)."""
    from .flink_support import module_child

    yield from module_child(tmp_path_factory, lifetime=900)


from .figures import figures, pytest_sessionstart, pytest_terminal_summary  # noqa: E402,F401
