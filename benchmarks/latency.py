"""End-to-end latency, put to pipeline output, at a fixed input rate.

A producer thread calls PutRecord ``rate`` times a second for ``duration`` seconds (one boto3 client, paced by
a schedule, not by the calls' own speed), each record carrying ``time.time()`` taken just before its
PutRecord. A DirectRunner pipeline ``ReadFromKinesis(spec, max_records=total, poll_interval=...) |
Map(observe)`` reads the stream from TRIM_HORIZON while the producer runs; ``observe`` computes
``time.time() - put time`` for each record as it comes out of the reader.

What is measured: PutRecord's round trip to the emulator, the record waiting in the shard until the reader's
next GetRecords on it (at most 5 calls per second per shard, so up to 200 ms, or ``poll_interval`` after an
empty answer), that call, and the DirectRunner handing the record to the next transform. Records put before
the pipeline delivered its first record (while it started up and read the backlog) are left out: the
percentiles describe the steady state. Producer and pipeline share the machine (and the GIL: the producer
is a thread of the pipeline's process).
"""

from __future__ import annotations

import struct
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

import harness
from beam_read import ingress_spec

from pyflink_kinesis.testing import Streams

# (put time, seen time) of every record that reached observe(); the DirectRunner runs the Map in this process.
OBSERVED: List[Tuple[float, float]] = []
_HEADER = struct.Struct("!dI")


def observe(record: Any) -> None:
    put_time, _ = _HEADER.unpack_from(record.data)
    OBSERVED.append((put_time, time.time()))


def produce(client: Any, stream: str, rate: float, total: int, stop: threading.Event, errors: List[BaseException],
            size: int = 100) -> None:
    """PutRecord ``total`` records at ``rate`` per second (bounded by count, and by ``stop``)."""
    pad = b"x" * max(0, size - _HEADER.size)
    start = time.monotonic()
    try:
        for i in range(total):
            wait = start + i / rate - time.monotonic()
            if wait > 0 and stop.wait(wait):
                return
            client.put_record(StreamName=stream, Data=_HEADER.pack(time.time(), i) + pad, PartitionKey=f"pk-{i}")
    except BaseException as e:  # noqa: BLE001 - reported by measure()
        errors.append(e)


def measure(emulator: Any, rate: float = 200.0, duration: float = 10.0, shards: int = 1, poll_interval: float = 1.0,
            label: Optional[str] = None) -> Dict[str, Any]:
    """One latency run; returns the percentiles (milliseconds) of the steady-state records."""
    import apache_beam as beam

    from beam_transforms.read import ReadFromKinesis

    client = emulator.client()
    stream = Streams(client, "latency").new(shards)
    total = int(rate * duration)
    OBSERVED.clear()
    stop = threading.Event()
    errors: List[BaseException] = []
    producer = threading.Thread(target=produce, args=(emulator.client(), stream, rate, total, stop, errors),
                                name="latency-producer", daemon=True)
    pipeline = beam.Pipeline(runner="DirectRunner")
    _ = (pipeline
         | ReadFromKinesis(ingress_spec(emulator, stream), max_records=total, max_read_time=duration + 60,
                           poll_interval=poll_interval)
         | beam.Map(observe))
    producer.start()
    try:
        pipeline.run().wait_until_finish()
    finally:
        stop.set()
        producer.join(timeout=30)
    if errors:
        raise RuntimeError(f"the latency producer failed: {errors[0]!r}")
    seen = list(OBSERVED)
    if len(seen) < total:
        raise RuntimeError(f"latency: the pipeline delivered {len(seen)} of {total} records")
    first_seen = min(t for _, t in seen)
    steady = [(t - p) * 1000 for p, t in seen if p >= first_seen]
    return {"label": label or f"{shards} shard, poll_interval={poll_interval:g} s", "rate": rate,
            "duration": duration, "shards": shards, "poll_interval": poll_interval, "records": len(steady),
            "p50_ms": harness.percentile(steady, 0.5), "p90_ms": harness.percentile(steady, 0.9),
            "p99_ms": harness.percentile(steady, 0.99), "max_ms": max(steady) if steady else float("nan")}


def table(rows: List[Dict[str, Any]]) -> str:
    return harness.markdown_table(
        ["reader setting", "input rate /s", "records measured", "p50 ms", "p90 ms", "p99 ms", "max ms"],
        [[r["label"], f"{r['rate']:.0f}", r["records"], f"{r['p50_ms']:.0f}", f"{r['p90_ms']:.0f}",
          f"{r['p99_ms']:.0f}", f"{r['max_ms']:.0f}"] for r in rows])
