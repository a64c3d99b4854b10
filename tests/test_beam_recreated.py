"""A stream deleted and created again under its name, met by a restored Beam restriction (kinesis-local).

The restriction keeps the stream's creation time with its positions; a restore onto a stream created since fails
with one line naming both creation times, or, with ``stream_recreated="start_over"``, reads the new stream from
the startup position, each of its records once across the restrictions.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

import pytest

beam = pytest.importorskip("apache_beam")

from beam_transforms import listing  # noqa: E402
from beam_transforms.read import _ListShardsFn  # noqa: E402
from beam_transforms.reader import _ReadStreamFn  # noqa: E402
from beam_transforms.retry import KinesisReadError  # noqa: E402
from beam_transforms.settings import read_settings  # noqa: E402
from pyflink_kinesis import AwsRegion, KinesisIngressBuilder  # noqa: E402
from pyflink_kinesis.spec.errors import ConfigError  # noqa: E402
from pyflink_kinesis.testing import Streams  # noqa: E402

from tests.beam_support import drive, drive_to_end, put, spec_for  # noqa: E402

pytestmark = [pytest.mark.beam]


def _fn(spec: Any, **settings: Any) -> _ReadStreamFn:
    fn = _ReadStreamFn(spec, read_settings(spec, stop_when_caught_up=True, checkpoint_interval=600, poll_interval=0.1,
                                           **settings))
    fn.setup()
    return fn


@pytest.mark.integration
def test_a_restore_onto_a_recreated_stream_fails_in_one_line_or_starts_over(
    kinesis: Any, client: Any, new_stream: Callable[..., str]
) -> None:
    stream = new_stream(shards=2)
    put(client, stream, [(f"old-{i}", b"old") for i in range(6)])
    spec = spec_for(kinesis, stream)
    lister = _ListShardsFn(spec)
    lister.setup()
    element = next(iter(lister.process(None)))  # as the pipeline lists the stream: shards and creation time
    first = _fn(spec)
    _, _, (_, restored) = drive(first, element, first.initial_restriction(element), take=2)
    first.teardown()
    assert restored.stream_created == element.created is not None

    Streams(client).recreate(stream, shards=2)
    written = put(client, stream, [(f"new-{i}", f"new-{i}".encode()) for i in range(8)])
    listing.SHARED.clear()  # the restore runs in a new worker process
    now = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamCreationTimestamp"]

    failing = _fn(spec)
    with pytest.raises(KinesisReadError) as failed:
        list(drive_to_end(failing, element, restored))
    message = str(failed.value)
    print(f"\n{message}")
    assert "\n" not in message and message.startswith(f"stream {stream} was deleted and created again")
    before = datetime.fromtimestamp(element.created, timezone.utc).isoformat(timespec="milliseconds")
    after = now.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    assert f"the stream created {before}, the stream now was created {after};" in message
    assert "stream_recreated='start_over'" in message
    with pytest.raises(KinesisReadError, match="was deleted and created again"):  # a position of the old run
        list(drive_to_end(failing, element, failing.initial_restriction(element)))
    failing.teardown()

    over = _fn(spec, stream_recreated="start_over")
    parts = list(over.split(element, restored))  # two restrictions (one per old shard), as two workers resume
    assert len(parts) == 2
    out = [o.value for part in parts for o in drive_to_end(over, element, part)]
    over.teardown()
    assert sorted((r.shard_id, r.sequence_number) for r in out) == sorted(written)  # each once, none of the old


def test_stream_recreated_is_an_argument_or_the_source_stream_recreated_property() -> None:
    builder = KinesisIngressBuilder.for_identifier("t/in").with_aws_region(AwsRegion.of("us-east-1")).with_stream("s")
    assert read_settings(builder.build()).stream_recreated == "FAIL"
    assert read_settings(builder.build(), stream_recreated="start_over").stream_recreated == "START_OVER"
    from_property = builder.with_client_configuration_property("source.stream-recreated", "START_OVER").build()
    assert read_settings(from_property).stream_recreated == "START_OVER"
    assert read_settings(from_property, stream_recreated="fail").stream_recreated == "FAIL"
    with pytest.raises(ConfigError, match="stream_recreated: expected 'fail' or 'start_over', got 'again'"):
        read_settings(builder.build(), stream_recreated="again")
