"""Configure once: the spec's ``source.*`` / ``sink.*`` properties drive the Beam transforms.

One test per property Beam honours, each failing if the transform ignored it (observed through the
Kinesis calls the transform makes against kinesis-local, its metrics, or a loopback proxy); the rest
give a ConfigWarning naming the key and the engine; transform arguments override properties.
"""

from __future__ import annotations

import time
import warnings
from typing import Any, Dict, List

import pytest

from pyflink_kinesis import (
    ConfigError,
    EgressRecord,
    KinesisEgressBuilder,
    KinesisIngressBuilder,
    KinesisIngressStartupPosition,
)
from pyflink_kinesis.spec.errors import ConfigError, ConfigWarning
from pyflink_kinesis.spec.keys import duration_seconds
from beam_transforms.settings import read_settings

beam = pytest.importorskip("apache_beam")

from beam_transforms.read import ReadFromKinesis  # noqa: E402
from beam_transforms.reader import _ReadStreamFn  # noqa: E402
from beam_transforms.restriction import StreamShards  # noqa: E402
from beam_transforms.retry import RetryPolicy  # noqa: E402
from beam_transforms.shards import list_shards  # noqa: E402
from beam_transforms.write import WriteToKinesis, _WriteFn  # noqa: E402

from pyflink_kinesis.testing.faultproxy import FaultProxy  # noqa: E402
from tests.beam_support import counter, distribution_max, drive, put  # noqa: E402

pytestmark = [pytest.mark.beam]


def _ingress(kinesis: Any, stream: str, props: Dict[str, Any]) -> Any:
    return (KinesisIngressBuilder.for_identifier("t/in").with_aws_region(kinesis.region)
            .with_aws_credentials(kinesis.credentials).with_stream(stream)
            .with_startup_position(KinesisIngressStartupPosition.from_earliest())
            .with_client_configuration_properties(props).build())


def _egress(region: Any, credentials: Any, props: Dict[str, Any], **builder: Any) -> Any:
    b = (KinesisEgressBuilder.for_identifier("t/out").with_aws_region(region).with_aws_credentials(credentials)
         .with_client_configuration_properties(props))
    if "max_outstanding" in builder:
        b = b.with_max_outstanding_records(builder["max_outstanding"])
    return b.build()


def _reader(transform: Any, client: Any, stream: str, max_splits: Any = None) -> Any:
    """The transform's reader DoFn, set up, recording the Kinesis calls it makes as (operation, params)."""
    fn = _ReadStreamFn(transform.spec, transform.settings, max_splits)
    fn.setup()
    fn.calls = []
    fn._client.meta.events.register("provide-client-params.kinesis.*",
                                    lambda params, model, **_: fn.calls.append((model.name, dict(params))))
    element = StreamShards(stream, tuple(list_shards(client, stream, RetryPolicy())), time.time())
    return fn, element


# ---------------------------------------------------------------- source.* on ReadFromKinesis


@pytest.mark.integration
def test_get_records_max_record_count_is_the_get_records_limit(kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream(shards=1)
    put(client, stream, [(f"k{i}", b"x") for i in range(20)])
    transform = ReadFromKinesis(_ingress(kinesis, stream, {"source.shard.get-records.max-record-count": 7}),
                                stop_when_caught_up=True, poll_interval=0.05)
    fn, element = _reader(transform, client, stream)
    out, _, _ = drive(fn, element, fn.initial_restriction(element))
    assert len(out) == 20
    limits = {params["Limit"] for name, params in fn.calls if name == "GetRecords"}
    assert limits == {7}


@pytest.mark.integration
def test_empty_records_fetch_interval_is_the_poll_interval(kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream(shards=1)
    transform = ReadFromKinesis(_ingress(kinesis, stream, {"source.reader.empty-records-fetch-interval": "300 ms"}))
    fn, element = _reader(transform, client, stream)
    _, _, deferred = drive(fn, element, fn.initial_restriction(element))  # unbounded: defers when empty
    assert deferred is not None and 250_000 < deferred[1].micros <= 300_000  # the delay left when asked
    # The argument overrides the property.
    transform = ReadFromKinesis(transform.spec, poll_interval=0.5)
    fn, element = _reader(transform, client, stream)
    _, _, deferred = drive(fn, element, fn.initial_restriction(element))
    assert 450_000 < deferred[1].micros <= 500_000


@pytest.mark.integration
def test_shard_discovery_interval_paces_list_shards(kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream(shards=1)
    transform = ReadFromKinesis(_ingress(kinesis, stream, {"source.shard.discovery.interval": "100 ms"}),
                                max_read_time=1.5, poll_interval=0.05)
    fn, element = _reader(transform, client, stream, max_splits=2)  # a bounded read that waits in process()
    drive(fn, element, fn.initial_restriction(element))
    assert sum(1 for name, _ in fn.calls if name == "ListShards") >= 5  # the default, 30 s, makes none


@pytest.mark.integration
def test_reader_type_efo_consumer_name_and_lifecycle(kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream(shards=1)
    put(client, stream, [(f"k{i}", f"r{i}".encode()) for i in range(5)])
    spec = _ingress(kinesis, stream, {"source.reader.type": "EFO", "source.efo.consumer.name": "from-spec",
                                      "source.efo.lifecycle": "JOB_MANAGED"})
    pipeline = beam.Pipeline(runner="DirectRunner")
    _ = pipeline | ReadFromKinesis(spec, stop_when_caught_up=True) | beam.Map(lambda r: None)
    result = pipeline.run()
    result.wait_until_finish()
    assert counter(result, "records_read") == 5
    assert counter(result, "efo_events") >= 1  # read through the consumer the spec names
    arn = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    consumers = client.list_stream_consumers(StreamARN=arn)["Consumers"]
    assert all(c["ConsumerStatus"] == "DELETING" for c in consumers), consumers  # job-managed: deregistered


def test_efo_without_a_consumer_name_and_bad_values_fail_naming_the_property() -> None:
    def spec(props: Dict[str, Any]) -> Any:
        return (KinesisIngressBuilder.for_identifier("t/in").with_stream("s")
                .with_client_configuration_properties(props).build())

    with pytest.raises(ConfigError, match="source.efo.consumer.name"):
        read_settings(spec({"source.reader.type": "EFO"}))
    arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/app:1"
    by_arn = read_settings(spec({"source.reader.type": "EFO", "source.efo.consumer.arn": arn}))
    assert (by_arn.consumer_arn, by_arn.consumer_name) == (arn, None), "the spec's ARN: no lookup by name"
    with pytest.raises(ConfigError, match=r"client_properties\.source\.shard\.get-records\.max-record-count"):
        read_settings(spec({"source.shard.get-records.max-record-count": "20000"}))
    with pytest.raises(ConfigError, match=r"client_properties\.source\.shard\.discovery\.interval"):
        read_settings(spec({"source.shard.discovery.interval": "soon"}))
    with pytest.raises(ConfigError, match="source.reader.type"):
        read_settings(spec({"source.reader.type": "FAST"}))
    with pytest.raises(ConfigError, match="poll_interval"):
        read_settings(spec({}), poll_interval=-1)
    assert duration_seconds("10 s", "f") == 10.0 and duration_seconds("250", "f") == 0.25
    assert duration_seconds("1 min", "f") == 60.0


# ---------------------------------------------------------------- sink.* on WriteToKinesis


def _write(spec: Any, records: List[EgressRecord]) -> Any:
    pipeline = beam.Pipeline(runner="DirectRunner")
    _ = pipeline | beam.Create(records) | WriteToKinesis(spec)
    result = pipeline.run()
    result.wait_until_finish()
    return result


@pytest.mark.integration
def test_batch_max_size_is_records_per_put_records(kinesis: Any, new_stream: Any) -> None:
    stream = new_stream(shards=1)
    spec = _egress(kinesis.region, kinesis.credentials, {"sink.batch.max-size": 7})
    result = _write(spec, [EgressRecord(f"r{i}".encode(), stream, f"k{i}") for i in range(20)])
    assert counter(result, "put_records_calls") == 3  # 7 + 7 + 6; the default makes one call


@pytest.mark.integration
def test_flush_buffer_size_is_bytes_per_put_records(kinesis: Any, new_stream: Any) -> None:
    stream = new_stream(shards=1)
    spec = _egress(kinesis.region, kinesis.credentials, {"sink.flush-buffer.size": 1_100_000})
    big = [EgressRecord(bytes([i]) * 300_000, stream, f"k{i}") for i in range(6)]  # 1.8 MB in all
    result = _write(spec, big)
    assert counter(result, "put_records_calls") == 2  # 3 records of 300 kB per call; the default 5 MiB: one call


@pytest.mark.integration
def test_requests_max_buffered_bounds_outstanding_records(kinesis: Any, new_stream: Any) -> None:
    stream = new_stream(shards=1)
    spec = _egress(kinesis.region, kinesis.credentials, {"sink.requests.max-buffered": 3})
    result = _write(spec, [EgressRecord(f"r{i}".encode(), stream, f"k{i}") for i in range(40)])
    assert counter(result, "written_records") == 40
    assert distribution_max(result, "outstanding_records_high_water") <= 3  # the default lets 40 in
    # A bound set on the builder wins over the property.
    named = _egress(kinesis.region, kinesis.credentials, {"sink.requests.max-buffered": 3}, max_outstanding=10)
    assert WriteToKinesis(named).settings.max_outstanding_records == 10


@pytest.mark.integration
def test_requests_max_inflight_is_calls_in_flight(kinesis: Any, new_stream: Any) -> None:
    stream = new_stream(shards=1)
    records = [EgressRecord(f"r{i}".encode(), stream, f"k{i}") for i in range(50)]
    with FaultProxy(kinesis.port, delay=0.3) as proxy:
        region = type(kinesis.region).of_custom_endpoint(proxy.endpoint, "us-east-1")
        _write(_egress(region, kinesis.credentials, {"sink.requests.max-inflight": 1, "sink.batch.max-size": 10}),
               records)
        assert proxy.max_inflight_entries <= 10  # one call of 10 at a time; the default (4) overlaps them


@pytest.mark.integration
def test_flush_buffer_timeout_sends_records_during_a_long_bundle(kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream(shards=1)
    transform = WriteToKinesis(_egress(kinesis.region, kinesis.credentials, {"sink.flush-buffer.timeout": 100}))
    assert transform.settings.flush_interval == 0.1
    s = transform.settings
    assert not s.dead_letter
    fn = _WriteFn(transform.spec, s, transform.retry_policy)
    fn.setup()
    try:
        fn.start_bundle()
        list(fn.process(EgressRecord(b"early", stream, "k"), 0, None))  # the bundle goes on: no finish_bundle
        shard = client.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
        iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard,
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        found: List[bytes] = []
        deadline = time.monotonic() + 3.0  # well before the default 5 s flush
        while not found and time.monotonic() < deadline:
            response = client.get_records(ShardIterator=iterator)
            found += [bytes(r["Data"]) for r in response["Records"]]
            iterator = response["NextShardIterator"]
            time.sleep(0.1)
        assert found == [b"early"]
        fn.finish_bundle()
    finally:
        fn.teardown()


# ---------------------------------------------------------------- what Beam cannot honour


def test_properties_beam_cannot_honour_warn_naming_key_and_engine() -> None:
    ingress = (KinesisIngressBuilder.for_identifier("t/in").with_stream("s")
               .with_client_configuration_properties({"source.efo.subscription.timeout": "60 s",
                                                      "source.shard.get-records.max-record-count": 100}).build())
    with pytest.warns(ConfigWarning, match=r"'source.efo.subscription.timeout' is not honoured by the beam engine"):
        ReadFromKinesis(ingress)
    egress = (KinesisEgressBuilder.for_identifier("t/out")
              .with_client_configuration_properties({"sink.skip-oversized-records": "true", "sink.batch.max-size": 10}).build())
    with pytest.warns(ConfigWarning, match=r"'sink.skip-oversized-records' is not honoured by the beam engine") as caught:
        WriteToKinesis(egress)
    assert len(caught) == 1  # honoured keys do not warn
    unbounded_job_managed = (KinesisIngressBuilder.for_identifier("t/in").with_stream("s")
                             .with_client_configuration_properties({"source.reader.type": "EFO",
                                                                    "source.efo.consumer.name": "c",
                                                                    "source.efo.lifecycle": "JOB_MANAGED"}).build())
    with pytest.warns(ConfigWarning, match="source.efo.lifecycle.*unbounded"):
        assert ReadFromKinesis(unbounded_job_managed).settings.consumer_lifecycle == "self-managed"


def test_kpl_names_reach_the_beam_writer_and_errors_name_them_as_written() -> None:
    egress = (KinesisEgressBuilder.for_identifier("t/out").with_client_configuration_properties(
        {"AggregationEnabled": "true", "AggregationMaxCount": 100, "AggregationMaxSize": 4096, "RecordTtl": 1500,
         "RateLimit": 80, "FailIfThrottled": "true", "CollectionMaxCount": 200, "sink.max-record-size": "5 mb"}).build())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # each is honoured by Beam: no warning
        s = WriteToKinesis(egress).settings
    assert (s.aggregation, s.aggregation_max_count, s.aggregation_max_size) == (True, 100, 4096)
    assert (s.record_ttl, s.rate_limit, s.fail_on_throttling) == (1.5, 80, True)
    assert s.max_batch_records == 200 and s.max_record_size == 5 * 1024 * 1024
    default = WriteToKinesis(KinesisEgressBuilder.for_identifier("t/out").build()).settings
    assert (default.aggregation, default.aggregation_max_count, default.aggregation_max_size) == (False, 2**32 - 1, 51200)
    assert default.record_ttl is None and default.rate_limit is None and default.max_record_size is None
    bad = KinesisEgressBuilder.for_identifier("t/out").with_client_configuration_property("AggregationMaxSize", 10).build()
    with pytest.raises(ConfigError, match=r"client_properties\.AggregationMaxSize: must be at least 64"):
        WriteToKinesis(bad)
    too_big = KinesisEgressBuilder.for_identifier("t/out").with_client_configuration_property(
        "sink.max-record-size", "11 mb").build()
    with pytest.raises(ConfigError, match=r"client_properties\.sink\.max-record-size: must be at most"):
        WriteToKinesis(too_big)
