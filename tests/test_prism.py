"""The Beam transforms on Prism, Beam's portable local runner: what the DirectRunner never does.

Prism splits running restrictions (``try_split(0.5)``), checkpoints, runs ``--streaming`` for real and
cancels jobs. Its binary is built once from source for the installed Beam version and cached
(:mod:`pyflink_kinesis.tools.prism`; ``./dev test`` builds it before the tests). The SDK harness runs in this
process (LOOPBACK). Whether and when Prism splits, and over how many bundle threads, depends on timing and is
not asserted: the splits themselves are tested by hand in test_beam_parallel.py.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest

beam = pytest.importorskip("apache_beam")

from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402
from apache_beam.runners.runner import PipelineState  # noqa: E402

from beam_transforms.read import ReadFromKinesis  # noqa: E402
from beam_transforms.write import WriteToKinesis  # noqa: E402
from pyflink_kinesis import EgressRecord, KinesisEgressBuilder  # noqa: E402
from pyflink_kinesis.tools.prism import prism_binary  # noqa: E402

from tests.beam_support import spec_for  # noqa: E402
from pyflink_kinesis.testing import wait_until  # noqa: E402
from tests.parallel_support import (CollectToFiles, KeyedWriter, Resharding, check_exactly_once,  # noqa: E402
                                    check_key_order, collected)

pytestmark = [pytest.mark.beam, pytest.mark.integration, pytest.mark.prism]


@pytest.fixture(scope="module")
def prism() -> str:
    """The cached Prism binary (built on first use: about 90 s, through the Go module proxy)."""
    return str(prism_binary())


def _options(prism: str, streaming: bool = False) -> PipelineOptions:
    return PipelineOptions(prism_location=prism, environment_type="LOOPBACK", streaming=streaming)


def _egress(kinesis: Any) -> Any:
    return (KinesisEgressBuilder.for_identifier("t/out").with_aws_region(kinesis.region)
            .with_aws_credentials(kinesis.credentials).build())


def _stream_contents(client: Any, stream: str) -> List[Dict[str, Any]]:
    out = []
    for shard in client.list_shards(StreamName=stream)["Shards"]:
        iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            response = client.get_records(ShardIterator=iterator, Limit=10000)
            out += response["Records"]
            if not response["Records"] and response.get("MillisBehindLatest") == 0:
                break
            iterator = response.get("NextShardIterator")
    return out


def test_write_on_prism(kinesis: Any, client: Any, new_stream: Callable[..., str], prism: str) -> None:
    stream = new_stream(shards=2)
    payloads = [bytes([i % 256, 255 - i % 256]) + f"-{i}".encode() for i in range(300)]
    with beam.Pipeline(runner="PrismRunner", options=_options(prism)) as pipeline:
        _ = (pipeline | beam.Create(payloads)
             | beam.Map(lambda data, s=stream: EgressRecord(data, s, data.hex()[:8]))
             | WriteToKinesis(_egress(kinesis)))
    assert sorted(bytes(r["Data"]) for r in _stream_contents(client, stream)) == sorted(payloads)


def test_bounded_read_on_prism(kinesis: Any, client: Any, new_stream: Callable[..., str], prism: str) -> None:
    stream = new_stream(shards=4)
    writer = KeyedWriter(client, stream)
    writer.put([(f"key-{k}", None) for k in range(20)], 400)
    with tempfile.TemporaryDirectory() as tmp:
        with beam.Pipeline(runner="PrismRunner", options=_options(prism)) as pipeline:
            _ = (pipeline | ReadFromKinesis(spec_for(kinesis, stream), stop_when_caught_up=True, poll_interval=0.2)
                 | beam.ParDo(CollectToFiles(tmp)))
        lines = collected(Path(tmp))
    check_exactly_once(lines, writer)
    check_key_order(lines, list(writer.counters))


def test_read_then_write_on_prism(kinesis: Any, client: Any, new_stream: Callable[..., str], prism: str) -> None:
    source, target = new_stream(shards=2), new_stream(shards=1)
    writer = KeyedWriter(client, source)
    writer.put([(f"key-{k}", None) for k in range(10)], 200)
    with beam.Pipeline(runner="PrismRunner", options=_options(prism)) as pipeline:
        _ = (pipeline | ReadFromKinesis(spec_for(kinesis, source), stop_when_caught_up=True, poll_interval=0.2)
             | beam.Map(lambda r, t=target: EgressRecord(r.data, t, r.partition_key))
             | WriteToKinesis(_egress(kinesis)))
    copied = _stream_contents(client, target)
    assert sorted(bytes(r["Data"]) for r in copied) == sorted(writer.written)
    assert all(writer.written[bytes(r["Data"])] == r["PartitionKey"] for r in copied)


@pytest.mark.slow
def test_streaming_read_of_eight_shards_while_one_splits_and_two_merge_then_cancel(
    kinesis: Any, client: Any, new_stream: Callable[..., str], prism: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    stream = new_stream(shards=8)
    plan = Resharding(client, stream)
    writer = KeyedWriter(client, stream)
    writer.put(plan.everything, 1200)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pipeline = beam.Pipeline(runner="PrismRunner", options=_options(prism, streaming=True))
        _ = (pipeline | ReadFromKinesis(spec_for(kinesis, stream), poll_interval=0.2, checkpoint_interval=2,
                                        max_records_per_call=100, shard_discovery_interval=1.0)
             | beam.ParDo(CollectToFiles(tmp)))
        result = pipeline.run()
        try:
            wait_until(lambda: len(collected(folder)) > 0, 120, "the first records read")
            plan.run()
            writer.put(plan.everything, 1200)
            wait_until(lambda: len(collected(folder)) >= len(writer.written), 180, "every record read")
        finally:
            result.cancel()
        try:
            result.wait_until_finish(duration=60_000)
        except RuntimeError as e:  # the portable runner reports a cancelled job as failed "in state CANCELLED"
            assert "CANCELLED" in str(e), e
        assert result.state == PipelineState.CANCELLED
        wait_until(lambda: any("Done consuming work" in r.getMessage() for r in caplog.records), 60,
                   "the SDK harness to finish its bundles")
        lines = collected(folder)

    check_exactly_once(lines, writer)
    assert plan.merged_child()["ShardId"] in {line["shard"] for line in lines}
    check_key_order(lines, plan.ordered_keys())
    # Cancelling while process() reads: the reader checkpoints and returns, nothing of ours logs an error.
    ours = [r for r in caplog.records if r.levelno >= logging.ERROR and
            any(word in _text(r) for word in ("beam_transforms", "pyflink_kinesis", "reader.py"))]
    assert not ours, [_text(r)[:2000] for r in ours]


def _text(record: logging.LogRecord) -> str:
    text = record.getMessage()
    if record.exc_info:
        text += logging.Formatter().formatException(record.exc_info)
    return text

