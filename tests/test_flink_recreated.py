"""A savepoint of a stream that was then deleted and created again under its name, on a MiniCluster (kinesis-local).

The split state keeps the stream's creation time with each position; the restore compares it with the stream's:
by default the job fails with one line naming the stream and both creation times; with
``source.stream-recreated: START_OVER`` the old positions are dropped and the new stream is read from the initial
position (here the earliest record), each of its records once.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyflink")

from pyflink_kinesis.flink.jar import connector_jar  # noqa: E402
from pyflink_kinesis.tools.local import LocalKinesis  # noqa: E402
from pyflink_kinesis.testing import Streams, put_all  # noqa: E402
from pyflink_kinesis.testing.flink_child import FlinkChild  # noqa: E402
from tests.flink_support import DEADLINE, JOBS_SCRIPT, observations  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.flink]


def java_instant(moment: datetime) -> str:
    """``moment`` at millisecond precision as Java's ``Instant.toString()`` writes it (no fraction when zero)."""
    utc = moment.astimezone(timezone.utc)
    millis = utc.microsecond // 1000
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + (f".{millis:03d}" if millis else "") + "Z"


def created(client: Any, stream: str) -> datetime:
    """DescribeStreamSummary's StreamCreationTimestamp of ``stream``."""
    return client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamCreationTimestamp"]


def test_a_restore_onto_a_recreated_stream_fails_in_one_line_or_starts_over(kinesis: LocalKinesis,
                                                                            tmp_path: Path) -> None:
    connector_jar()
    client = kinesis.client()
    streams = Streams(client, "recreated")
    source, out = streams.new(1), streams.new(1)
    old = [{"Data": b"old-%d" % i, "PartitionKey": f"k{i}"} for i in range(10)]
    new = [{"Data": b"new-%d" % i, "PartitionKey": f"k{i}"} for i in range(12)]
    args = {"endpoint": kinesis.endpoint, "in": source, "out": out}
    with FlinkChild(JOBS_SCRIPT, tmp_path / "child.log", lifetime=900) as flink:
        put_all(client, source, old)
        before = created(client, source)
        flink.start("copy", args)
        flink.wait_until(lambda: len(observations(client, out)) >= len(old), DEADLINE, "the old stream's records")
        savepoint = flink.call(cmd="stop_with_savepoint", dir=str(tmp_path / "savepoints"))["savepoint"]
        assert flink.wait(60)["status"] == "FINISHED"

        streams.recreate(source, shards=2)
        now = created(client, source)
        assert now != before
        put_all(client, source, new)

        flink.start("copy", args, {"execution.savepoint.path": savepoint})
        ended = flink.wait(DEADLINE)
        assert ended["status"] == "FAILED", ended
        lines = [line for line in ended["error"].splitlines() if "was deleted and created again" in line]
        assert lines, ended["error"][-3000:]
        assert (f"Kinesis stream '{source}' was deleted and created again: the checkpoint's positions are of the "
                f"stream created at {java_instant(before)}, the stream now was created at {java_instant(now)}; "
                "set source.stream-recreated=START_OVER") in lines[0], lines[0]
        assert Counter(o["data"] for o in observations(client, out)) == Counter(e["Data"] for e in old)

        flink.start("copy", dict(args, source_props={"source.stream-recreated": "START_OVER"}),
                    {"execution.savepoint.path": savepoint})
        flink.wait_until(lambda: len(observations(client, out)) >= len(old) + len(new), DEADLINE,
                         "the new stream's records")
        assert flink.call(cmd="status")["status"] == "RUNNING"
        got = Counter(o["data"] for o in observations(client, out))
        assert got == Counter(e["Data"] for e in old + new), "each record once, none of the old stream again"
