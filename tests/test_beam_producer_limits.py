"""WriteToKinesis under a shard's real limits (through ShardLimitsProxy): the KPL's RecordTtl, RateLimit and
FailIfThrottled as sink.record-ttl, sink.rate-limit and sink.fail-on-throttling; records up to the stream's
MaxRecordSizeInKiB (sink.max-record-size)."""

from __future__ import annotations

from collections import Counter
from typing import Any, Dict, List, Tuple

import pytest

beam = pytest.importorskip("apache_beam")

from beam_transforms.pacing import RecordSizeLimits  # noqa: E402
from beam_transforms.retry import RetryPolicy  # noqa: E402
from beam_transforms.write import WriteToKinesis  # noqa: E402
from beam_transforms.write_results import KinesisThrottledError  # noqa: E402
from pyflink_kinesis import AwsRegion, EgressRecord, KinesisEgressBuilder  # noqa: E402
from pyflink_kinesis.spec.records import MAX_RECORD_BYTES  # noqa: E402
from pyflink_kinesis.testing import read_stream  # noqa: E402
from pyflink_kinesis.testing.shardlimits import ShardLimitsProxy  # noqa: E402
from tests.beam_support import SINK, collect, counter, run  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.beam]


def spec_via(proxy: ShardLimitsProxy, kinesis: Any, **props: Any) -> Any:
    return (KinesisEgressBuilder.for_identifier("t/limits")
            .with_aws_region(AwsRegion.of_custom_endpoint(proxy.endpoint, "us-east-1"))
            .with_aws_credentials(kinesis.credentials).with_client_configuration_properties(props).build())


def write(spec: Any, records: List[EgressRecord], **kwargs: Any) -> Tuple[List[Any], List[Any], Any]:
    tokens: Dict[str, str] = {}

    def build(p: Any) -> None:
        out = p | beam.Create(records) | WriteToKinesis(spec, **kwargs)
        tokens["written"] = collect(out.written, "written")
        tokens["failed"] = collect(out.failed, "failed")

    result = run(build)
    return SINK.pop(tokens["written"]), SINK.pop(tokens["failed"]), result


@pytest.mark.parametrize("dead_letter", [False, True])
def test_records_held_behind_a_throttled_shard_past_the_ttl_are_dropped_and_counted(
        kinesis: Any, client: Any, new_stream: Any, dead_letter: bool) -> None:
    stream = new_stream(shards=1)
    records = [EgressRecord(b"r%03d" % i, stream, "k") for i in range(150)]
    with ShardLimitsProxy(kinesis.port, max_write_records=20) as proxy:  # 20 records/s: 150 take over 7 s
        spec = spec_via(proxy, kinesis, RecordTtl=1500)
        written, failed, result = write(spec, records, dead_letter=dead_letter, initial_backoff=0.05, max_backoff=0.2)
    stored = [r["Data"] for r in read_stream(client, stream)]
    expired = counter(result, "expired_records")
    assert 0 < expired < len(records) and len(written) == len(stored) == len(records) - expired
    assert len(set(stored)) == len(stored)  # nothing twice, nothing else lost
    if dead_letter:
        assert len(failed) == expired and {f.error_code for f in failed} == {"RecordTtlExpired"}
        assert Counter(stored) + Counter(f.record.data for f in failed) == Counter(r.data for r in records)
    else:
        assert failed == []


def test_ttl_with_fail_on_error_fails_the_pipeline(kinesis: Any, new_stream: Any) -> None:
    stream = new_stream(shards=1)
    with ShardLimitsProxy(kinesis.port, max_write_records=5) as proxy:
        spec = spec_via(proxy, kinesis, RecordTtl=500, **{"sink.fail-on-error": "true"})
        with pytest.raises(Exception, match=rf"stream '{stream}'.*RecordTtlExpired: not written within sink.record-ttl"):
            write(spec, [EgressRecord(b"%d" % i, stream, "k") for i in range(40)], initial_backoff=0.05, max_backoff=0.1)


def test_rate_limit_100_sees_almost_no_throttled_entries(kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream(shards=2)
    records = [EgressRecord(b"%04d" % i + b"." * 96, stream, f"key-{i % 37}") for i in range(1200)]
    # kinesis-local takes well under a shard's 1,000 records/s here, so the proxy's limit and the writer's rate are
    # both scaled down by five: RateLimit 20 against 200 records/s is RateLimit 100 against the service's 1,000.
    scaled = dict(max_write_records=200, max_write_bytes=1024 * 1024 // 5)
    with ShardLimitsProxy(kinesis.port, **scaled) as proxy:
        written, failed, _ = write(spec_via(proxy, kinesis, RateLimit=20), records)
        throttled = sum(proxy.throttled.values())
        admitted = sum(proxy.admitted.values())
    assert not failed and len(written) == len(records)
    assert admitted == len(records) and throttled <= len(records) // 100  # (almost) none: the proxy's clock is not ours
    # The same writes unpaced meet the limit (so the figure above says something).
    with ShardLimitsProxy(kinesis.port, **scaled) as proxy:
        write(spec_via(proxy, kinesis), records)
        assert sum(proxy.throttled.values()) > len(records) // 100


def test_fail_on_throttling_names_the_stream_and_the_shard(kinesis: Any, new_stream: Any) -> None:
    stream = new_stream(shards=1)
    with ShardLimitsProxy(kinesis.port, max_write_records=10) as proxy:
        spec = spec_via(proxy, kinesis, FailIfThrottled="true")
        with pytest.raises(Exception) as caught:
            write(spec, [EgressRecord(b"%d" % i, stream, "k") for i in range(50)])
    message = str(caught.value)
    assert "shard shardId-000000000000 of stream" in message and f"'{stream}'" in message
    assert "sink.fail-on-throttling" in message
    assert KinesisThrottledError.__name__ in message or "ProvisionedThroughputExceededException" in message


@pytest.mark.slow  # kinesis-local takes about 15 s to store a 5 MiB record
def test_a_stream_reporting_10_mib_records_takes_a_5_mib_record(kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream(shards=1)
    # kinesis-local 0.6.2 refuses a record over 1 MiB ("Record data size ... exceeds the stream's max record size
    # of 1048576 bytes", InvalidArgumentException) until UpdateMaxRecordSize raises the stream's limit; it then
    # takes records up to 10 MiB and reports MaxRecordSizeInKiB itself. The proxy reports the field for
    # emulators that never do (kinesalite); here both say 10240.
    arn = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    client.update_max_record_size(StreamARN=arn, MaxRecordSizeInKiB=10240)
    big = EgressRecord(bytes(range(256)) * (5 * 1024 * 4), stream, "big")  # 5 MiB of data
    with ShardLimitsProxy(kinesis.port, max_record_size_kib=10240) as proxy:
        written, failed, _ = write(spec_via(proxy, kinesis), [big, EgressRecord(b"small", stream, "s")])
    assert not failed and len(written) == 2
    assert sorted(r["Data"] for r in read_stream(client, stream)) == sorted([big.data, b"small"])


def test_the_proxy_alone_raises_the_writers_limit(kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream(shards=1)
    with ShardLimitsProxy(kinesis.port, max_record_size_kib=10240) as proxy:
        limits = RecordSizeLimits(spec_via(proxy, kinesis).create_client(), RetryPolicy(max_elapsed=10))
        assert limits.limit(stream) == (10 * 1024 * 1024, "the stream's MaxRecordSizeInKiB 10240 (DescribeStreamSummary)")
    plain = RecordSizeLimits(client, RetryPolicy(max_elapsed=10))
    assert plain.limit(stream) == (MAX_RECORD_BYTES, "the Kinesis default: the stream reports no MaxRecordSizeInKiB")


def test_without_the_field_1_mib_stays_the_limit_with_todays_error(kinesis: Any, new_stream: Any) -> None:
    stream = new_stream(shards=1)
    with ShardLimitsProxy(kinesis.port) as proxy:
        with pytest.raises(Exception) as caught:
            write(spec_via(proxy, kinesis), [EgressRecord(b"x" * (MAX_RECORD_BYTES + 100), stream, "big")])
    message = str(caught.value)
    assert f"stream '{stream}'" in message and "partition key 'big'" in message
    assert f"limit of {MAX_RECORD_BYTES} bytes per record (the Kinesis default: the stream reports no " \
           "MaxRecordSizeInKiB)" in message
