"""Lag and listing in ReadFromKinesis: the ``millis_behind_latest`` metric, and one ListShards per stream per
worker per interval (kinesis-local, DirectRunner).

ListShards calls are counted with botocore's ``before-call.kinesis.ListShards`` event on every client the
transform makes (the DirectRunner's workers are threads of this process here).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List

import pytest

beam = pytest.importorskip("apache_beam")

from apache_beam.metrics.metric import MetricsFilter  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402

import beam_transforms.listing as listing  # noqa: E402
import beam_transforms.read as read_module  # noqa: E402
import beam_transforms.reader as reader_module  # noqa: E402
from beam_transforms.listing import Listing, SharedListings  # noqa: E402
from beam_transforms.read import ReadFromKinesis  # noqa: E402

from tests.beam_support import Collect, SINK, put, spec_for  # noqa: E402

pytestmark = [pytest.mark.beam]


class _CallCount:
    """Counts the calls of ``operation`` (e.g. ``ListShards``) of every client the transform makes (botocore event
    hook ``before-call.kinesis.<operation>``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, operation: str) -> None:
        self.calls = 0
        self._event = f"before-call.kinesis.{operation}"
        self._lock = threading.Lock()
        for module in (read_module, reader_module):
            monkeypatch.setattr(module, "transform_client", self._hooked(module.transform_client))

    def _count(self, **unused: Any) -> None:
        with self._lock:
            self.calls += 1

    def _hooked(self, make: Callable[..., Any]) -> Callable[..., Any]:
        def client(*args: Any, **kwargs: Any) -> Any:
            made = make(*args, **kwargs)
            made.meta.events.register(self._event, self._count)
            return made
        return client


class _Unshared:
    """What every restriction did before listings were shared: list the stream itself, each time."""

    def get(self, key: Any, fetch: Callable[[], Listing], max_age: float) -> Listing:
        return fetch()


def _read_eight_shards_with_four_workers(kinesis: Any, stream: str, expected: int) -> None:
    key = f"lag-{stream}-{time.monotonic()}"
    SINK[key] = []
    options = PipelineOptions(direct_num_workers=4, direct_running_mode="multi_threading")
    with beam.Pipeline(runner="DirectRunner", options=options) as pipeline:
        _ = (pipeline | ReadFromKinesis(spec_for(kinesis, stream), stop_when_caught_up=True, max_records_per_call=2,
                                        shard_discovery_interval=0.2, poll_interval=0.2) | beam.ParDo(Collect(key)))
    assert len(SINK.pop(key)) == expected


@pytest.mark.integration
def test_a_worker_lists_a_stream_once_per_interval_for_all_its_restrictions(
    kinesis: Any, client: Any, new_stream: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = new_stream(shards=8)
    put(client, stream, [(f"key-{i}", b"x") for i in range(160)])
    before = _CallCount(monkeypatch, "ListShards")
    with monkeypatch.context() as unshared:
        unshared.setattr(listing, "SHARED", _Unshared())
        _read_eight_shards_with_four_workers(kinesis, stream, 160)
    calls_before = before.calls
    after = _CallCount(monkeypatch, "ListShards")
    _read_eight_shards_with_four_workers(kinesis, stream, 160)
    print(f"\nListShards calls, 8 shards (160 records, 2 per GetRecords) read by 4 workers, discovery every 0.2 s: "
          f"each restriction listing {calls_before}, shared per worker {after.calls}")
    assert after.calls < calls_before


def test_concurrent_askers_of_one_stream_wait_for_one_listing() -> None:
    shared = SharedListings()
    calls: List[int] = []
    gate = threading.Event()

    def fetch() -> Listing:
        calls.append(1)
        gate.wait(5)
        return Listing((), frozenset(), time.monotonic())

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(shared.get, "k", fetch, 10.0) for _ in range(4)]
        gate.set()
        results = [f.result() for f in futures]
    assert len(calls) == 1 and all(r is results[0] for r in results)
    assert shared.get("k", fetch, 10.0) is results[0]  # young enough: reused
    assert shared.get("k", fetch, 0.0) is not results[0] and len(calls) == 2  # max_age 0: a new listing
    assert shared.get("other", fetch, 10.0) is not results[0] and len(calls) == 3  # keys apart


@pytest.mark.integration
def test_millis_behind_latest_is_a_metric_per_stream(
    kinesis: Any, client: Any, new_stream: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = new_stream(shards=2)
    get_records = _CallCount(monkeypatch, "GetRecords")
    put(client, stream, [(f"key-{i}", b"x") for i in range(20)])
    pipeline = beam.Pipeline(runner="DirectRunner")
    _ = pipeline | ReadFromKinesis(spec_for(kinesis, stream), stop_when_caught_up=True, max_records_per_call=5)
    result = pipeline.run()
    result.wait_until_finish()
    found = result.metrics().query(MetricsFilter().with_name("millis_behind_latest"))["distributions"]
    by_namespace: Dict[str, Any] = {d.key.metric.namespace: d.committed for d in found}
    assert list(by_namespace) == [f"kinesis/{stream}"]
    lag = by_namespace[f"kinesis/{stream}"]
    # One value per GetRecords answer read (20 records, 5 per call, each shard then caught up: 0 behind); the
    # read stops once both shards are caught up, dropping at most one answer per shard still in flight.
    assert lag.count >= 4 and get_records.calls - 2 <= lag.count <= get_records.calls and lag.min == 0
