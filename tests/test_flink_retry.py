"""Issue 18, items 2, 3 and 5 on a real MiniCluster with the packaged connector, against kinesis-local.

Slow answers, outages and the service's wording for an AT_TIMESTAMP past its clock are produced by the loopback
fault proxy (``tests/faultproxy.py``) in front of the emulator: no emulator holds answers back, goes down on cue,
or words that refusal as the service does. The jobs are ``tests/flink_jobs.py`` (``through_faults``, ``copy``).
Every wait has a deadline; the only fixed wait is the 60-second outage itself.
"""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest

pytest.importorskip("pyflink")

from pyflink_kinesis.tools.local import LocalKinesis  # noqa: E402
from pyflink_kinesis.testing.faultproxy import FaultProxy  # noqa: E402
from pyflink_kinesis.testing import put_all, read_stream, wait_until  # noqa: E402
from pyflink_kinesis.testing.flink_child import FlinkChild  # noqa: E402
from tests.flink_support import module_child  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.flink]
DEADLINE = 240.0  # seconds for a job to start and move what it was given, on a loaded 2-core machine


@pytest.fixture(scope="module")
def flink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlinkChild]:
    """One child process running the jobs of this module, one after the other."""
    yield from module_child(tmp_path_factory, lifetime=1500)


def copied(client: Any, stream: str) -> Counter:
    """The payloads the copy job wrote to ``stream`` (its observations), with how often each arrived."""
    return Counter(base64.b64decode(json.loads(r["Data"])["data"]) for r in read_stream(client, stream))


def refused_calls(proxy: FaultProxy) -> set:
    """The operations of the calls the proxy received since it went down."""
    return {op for t, op in proxy.calls if t >= proxy.down_since}


def entries(prefix: str, n: int) -> List[Dict[str, Any]]:
    return [{"Data": b"%s-%04d" % (prefix.encode(), i), "PartitionKey": f"k{i % 50}"} for i in range(n)]


def test_put_records_answered_15_s_late_are_not_sent_again(kinesis: LocalKinesis, flink: FlinkChild,
                                                            new_stream: Callable[..., str]) -> None:
    """Issue 18 item 2: the proxy stores every PutRecords at once and holds back the answers of a share of them
    15 s; nothing fails. The sink waits for the answers (read timeout 6 min, as the official connector), so each
    of the 2,000 records arrives exactly once."""
    client = kinesis.client()
    out = new_stream(2, "hold")
    count = 2000
    with FaultProxy(kinesis.port, seed=5, hold=0.4, hold_seconds=15, max_lifetime=DEADLINE * 2) as proxy:
        flink.start("through_faults", {"endpoint": kinesis.endpoint, "sink_endpoint": proxy.endpoint, "outs": [out],
                                       "count": count})
        ended = flink.wait(DEADLINE)
    assert ended["status"] == "FINISHED", str(ended)[-3000:]
    got = Counter(bytes(r["Data"]) for r in read_stream(client, out))
    assert proxy.faults["hold"] > 0 and proxy.held > 0, proxy.faults
    assert set(got) == {b"%08d\xff\xfe" % i for i in range(1, count + 1)}, "every record arrived"
    duplicates = {k: n for k, n in got.items() if n > 1}
    assert not duplicates, f"{len(duplicates)} records arrived more than once ({proxy.held} answers were held)"


def test_a_60_second_outage_is_ridden_out_with_nothing_lost(kinesis: LocalKinesis, flink: FlinkChild,
                                                             new_stream: Callable[..., str]) -> None:
    """Issue 18 item 3: the source and the sink each talk to a proxy that closes every connection for 60 s,
    the source's first; 50 s later the sink's, so that the records the source reads when its endpoint returns
    meet the sink's outage (a sink that cannot write backpressures the source, which then stops polling, so the
    two outages cannot both be met at once). Records keep arriving in the input meanwhile. With the default total
    retry time (5 min) the job keeps running and copies every record once."""
    client = kinesis.client()
    source, out = new_stream(1, "outage"), new_stream(1, "outage")
    first, during, after = entries("first", 500), entries("during", 500), entries("after", 500)
    put_all(client, source, first)
    with FaultProxy(kinesis.port, max_lifetime=DEADLINE * 3) as reads, \
            FaultProxy(kinesis.port, max_lifetime=DEADLINE * 3) as writes:
        flink.start("copy", {"endpoint": kinesis.endpoint, "source_endpoint": reads.endpoint,
                             "sink_endpoint": writes.endpoint, "in": source, "out": out})
        flink.wait_until(lambda: sum(copied(client, out).values()) >= 500, DEADLINE, "the first records")
        reads.down()
        reads_back_at = time.monotonic() + 60
        put_all(client, source, during)
        flink.wait_until(lambda: "GetRecords" in refused_calls(reads), 30, "the source to meet the outage")
        time.sleep(max(0.0, reads_back_at - 10 - time.monotonic()))  # the outages themselves: 60 s each
        writes.down()
        writes_back_at = time.monotonic() + 60
        time.sleep(max(0.0, reads_back_at - time.monotonic()))
        reads.up()
        flink.wait_until(lambda: "PutRecords" in refused_calls(writes), 50, "the sink to meet the outage")
        put_all(client, source, after)
        time.sleep(max(0.0, writes_back_at - time.monotonic()))
        writes.up()
        flink.wait_until(lambda: sum(copied(client, out).values()) >= 1500, DEADLINE, "the records written during the outage",
                   interval=2)
        status = flink.call(cmd="status")["status"]
    assert status == "RUNNING"
    assert copied(client, out) == Counter(e["Data"] for e in first + during + after), "every record once"
    assert flink.call(cmd="cancel")["status"] == "CANCELED"


def latest_checkpoint(directory: Path) -> str:
    """The newest completed checkpoint under ``directory`` (its ``chk-N`` folder holding ``_metadata``), or ''."""
    done = [p.parent for p in directory.glob("*/chk-*/_metadata")]
    return str(max(done, key=lambda p: int(p.name.split("-")[1]))) if done else ""


def test_an_outage_longer_than_the_total_retry_time_fails_the_job_and_a_restart_loses_nothing(
        kinesis: LocalKinesis, flink: FlinkChild, new_stream: Callable[..., str], tmp_path: Path) -> None:
    """Issue 18 item 3: the sink talks to the proxy with sink.max-retry-time 10 s; the proxy goes down for good.
    The job fails naming the call, the stream and the last error; once the endpoint is back, a job restored
    from the last checkpoint copies every record (at least once: records after the checkpoint are read again)."""
    client = kinesis.client()
    source, out = new_stream(1, "deadline"), new_stream(1, "deadline")
    first, later = entries("first", 500), entries("later", 500)
    put_all(client, source, first)
    checkpoints = tmp_path / "checkpoints"
    config = {"execution.checkpointing.dir": checkpoints.as_uri(),
              "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION"}
    with FaultProxy(kinesis.port, max_lifetime=DEADLINE * 3) as proxy:
        args = {"endpoint": kinesis.endpoint, "sink_endpoint": proxy.endpoint, "in": source, "out": out,
                "sink_props": {"sink.max-retry-time": "10 s"}}
        flink.start("copy", args, config)
        flink.wait_until(lambda: sum(copied(client, out).values()) >= 500, DEADLINE, "the first records")
        flink.wait_until(lambda: latest_checkpoint(checkpoints), 60, "a completed checkpoint")
        proxy.down()
        put_all(client, source, later)
        started = time.monotonic()
        ended = flink.wait(DEADLINE)
        failed_after = time.monotonic() - started
        proxy.up()
        assert ended["status"] == "FAILED", str(ended)[-3000:]
        assert f"Kinesis PutRecords to stream '{out}' failed for" in ended["error"], ended["error"][-3000:]
        assert "longer than sink.max-retry-time (10 s); last error: " in ended["error"]
        assert failed_after >= 10 - 1, f"gave up after {failed_after:.1f} s"
        flink.start("copy", args, {**config, "execution.savepoint.path": latest_checkpoint(checkpoints)})
        flink.wait_until(lambda: set(copied(client, out)) >= {e["Data"] for e in first + later}, DEADLINE,
                   "every record after the restart", interval=2)
    got = copied(client, out)
    assert set(got) == {e["Data"] for e in first + later}
    assert flink.call(cmd="cancel")["status"] == "CANCELED"


def test_a_startup_date_in_the_future_refused_in_the_services_words_reads_only_what_comes_after(
        kinesis: LocalKinesis, flink: FlinkChild, new_stream: Callable[..., str]) -> None:
    """Issue 18 item 5: the proxy answers AT_TIMESTAMP GetShardIterator calls for a time past its clock with the
    service's 400 InvalidArgumentException wording. The source reads from LATEST instead (by error code and
    iterator type) and drops what arrives before the date: no failure, no record older than the date."""
    client = kinesis.client()
    source, out = new_stream(1, "future"), new_stream(1, "future")
    put_all(client, source, entries("before-start", 100))
    date = datetime.now(timezone.utc) + timedelta(seconds=60)
    with FaultProxy(kinesis.port, future_timestamps=True, max_lifetime=DEADLINE * 2) as proxy:
        flink.start("copy", {"endpoint": kinesis.endpoint, "source_endpoint": proxy.endpoint, "in": source,
                             "out": out, "start_at": date.isoformat()})
        flink.wait_until(lambda: proxy.refused_timestamps and proxy.operations("GetRecords"), DEADLINE,
                   "the reader to be refused, then to poll")
        put_all(client, source, entries("too-early", 100))
        assert datetime.now(timezone.utc) < date - timedelta(seconds=2), "the early records were written too late"
        wait_until(lambda: datetime.now(timezone.utc) > date + timedelta(seconds=1), 90, "the startup date")
        late = entries("after-the-date", 100)
        put_all(client, source, late)
        flink.wait_until(lambda: sum(copied(client, out).values()) >= 100, DEADLINE, "the records after the date")
        status = flink.call(cmd="status")["status"]
    # The shard is read in order: a record from before the date would have come out before these.
    assert copied(client, out) == Counter(e["Data"] for e in late)
    assert status == "RUNNING" and proxy.refused_timestamps > 0
    assert flink.call(cmd="cancel")["status"] == "CANCELED"
