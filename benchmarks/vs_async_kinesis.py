"""Benchmark: the Beam transforms vs async-kinesis, and ReadFromKinesis scaling with workers.

Part of ``run.py`` (same run, same emulator as the other sections). async-kinesis (pinned in
``requirements-async-kinesis.txt``) is what Python users pick for Kinesis without Beam: an asyncio Producer
and Consumer on aiobotocore. It runs in its own virtual environment (its botocore pin conflicts with this
project's), built once in the cache folder, through ``async_kinesis_client.py``, with its defaults but a
processor that sends the payload bytes as they are (no JSON):

- write: WriteToKinesis (a whole DirectRunner pipeline, start-up included) vs async-kinesis ``Producer.put``
  of the same N records of the same size, each on a fresh stream of the same shard count;
- read: ReadFromKinesis (``max_records=N``, a whole pipeline) vs async-kinesis ``Consumer`` iterating until N
  records, both from TRIM_HORIZON of one pre-filled stream;
- read scaling: ReadFromKinesis (``stop_when_caught_up``) of one pre-filled 8-shard stream on the DirectRunner
  with 1, 2 and 4 worker processes (``direct_num_workers``, ``direct_running_mode='multi_processing'``).

async-kinesis times itself inside its process (from creating the Producer/Consumer to the last record;
interpreter start-up and imports excluded), the Beam numbers include the pipeline's start-up. The targets
compare both without start-up: the Beam pipeline's start-up is measured on one record (write) and on an
empty stream (read) and taken off; the whole-pipeline ratios are reported beside them. Its defaults limit a producer to 1,000 records/s per shard (the service limit) and a
consumer to 1 GetRecords call per second per shard; ReadFromKinesis allows 5 per second per shard.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Sequence

import beam_read
import beam_write
import harness
from harness import Records

from pyflink_kinesis.testing import Streams

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements-async-kinesis.txt"
CLIENT = HERE / "async_kinesis_client.py"


def run_async_kinesis(emulator: Any, mode: str, stream: str, n: int, size: int) -> float:
    """Seconds async-kinesis took to ``produce`` or ``consume`` ``n`` records (its own process, bounded)."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local", AWS_DEFAULT_REGION="us-east-1")
    done = subprocess.run([str(harness.cached_venv(REQUIREMENTS)), str(CLIENT), mode, emulator.endpoint, stream, str(n),
                           str(size)], env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"async-kinesis {mode} failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


def run_parallel_read(emulator: Any, stream: str, workers: int) -> int:
    """ReadFromKinesis(stop_when_caught_up) of ``stream`` on the DirectRunner with ``workers`` processes."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from beam_transforms.read import ReadFromKinesis

    options = PipelineOptions(direct_num_workers=workers, direct_running_mode="multi_processing") \
        if workers > 1 else PipelineOptions()
    pipeline = beam.Pipeline(runner="DirectRunner", options=options)
    _ = pipeline | ReadFromKinesis(beam_read.ingress_spec(emulator, stream), stop_when_caught_up=True,
                                   poll_interval=0.2)
    result = pipeline.run()
    result.wait_until_finish()
    return beam_read.records_read(result)


def read_scaling(emulator: Any, streams: Streams, recs: Records, scaling_records: int,
                 workers: Sequence[int]) -> List[Dict[str, Any]]:
    """ReadFromKinesis on 8 shards with each number of ``workers``, its start-up measured on an empty stream."""
    client = emulator.client()
    scaled, empty = streams.new(8), streams.new(8)
    harness.log(f"  read scaling: filling {scaled} with {scaling_records} records on 8 shards ...")
    harness.fill(client, scaled, recs, scaling_records)
    scaling: List[Dict[str, Any]] = []
    for w in workers:
        harness.log(f"  read scaling: {w} worker(s) ...")
        counted: List[int] = []
        seconds = harness.timed(lambda: counted.append(run_parallel_read(emulator, scaled, w)))
        if counted != [scaling_records]:
            raise RuntimeError(f"read scaling with {w} workers: read {counted} of {scaling_records}")
        # The same pipeline on an empty 8-shard stream: start-up (worker processes, stages, listing).
        overhead = harness.timed(lambda: run_parallel_read(emulator, empty, w))
        reading = max(seconds - overhead, 1e-3)
        scaling.append({"workers": w, "records": scaling_records, "seconds": seconds, "rps": scaling_records / seconds,
                        "startup_s": overhead, "net_rps": scaling_records / reading})
    for row in scaling:
        row["vs_1"] = row["net_rps"] / scaling[0]["net_rps"]
    return scaling


def benchmark(emulator: Any, n: int, shards: int, scaling_records: int, workers: Sequence[int] = (1, 2, 4),
              size: int = 100) -> Dict[str, Any]:
    """The write and read comparisons (one run each, after a warm-up) and the read scaling rows."""
    recs = Records(size)
    client = emulator.client()
    streams = Streams(client, "vs")
    warm = streams.new(shards)  # warm-up: imports, the venv, first connections (not timed)
    run_async_kinesis(emulator, "produce", warm, 200, size)
    beam_write.run_beam(emulator, warm, 200, recs)

    rows: List[Dict[str, Any]] = []
    for what, method, run in (
        ("write", "WriteToKinesis (Beam DirectRunner)", lambda s: harness.timed(
            lambda: beam_write.run_beam(emulator, s, n, recs))),
        ("write", "async-kinesis Producer", lambda s: run_async_kinesis(emulator, "produce", s, n, size)),
    ):
        stream = streams.new(shards)
        harness.log(f"  {method}: {n} records on {shards} shards ...")
        seconds = run(stream)
        stored = harness.count_records(client, stream)
        if stored != n:
            raise RuntimeError(f"{method}: {stored} of {n} records in {stream}")
        rows.append({"what": what, "method": method, "records": n, "seconds": seconds, "rps": n / seconds})

    source = streams.new(shards)
    harness.fill(client, source, recs, n)
    got: List[int] = []
    for method, run in (
        ("ReadFromKinesis (Beam DirectRunner)", lambda: harness.timed(
            lambda: got.append(beam_read.run_beam_read(emulator, source, n)))),
        ("async-kinesis Consumer", lambda: run_async_kinesis(emulator, "consume", source, n, size)),
    ):
        harness.log(f"  {method}: {n} records of {shards} shards ...")
        seconds = run()
        rows.append({"what": "read", "method": method, "records": n, "seconds": seconds, "rps": n / seconds})
    if got != [n]:
        raise RuntimeError(f"ReadFromKinesis read {got} of {n} records")
    # The Beam pipelines' start-up (what async-kinesis's own timing leaves out): the same pipelines on one
    # record, and on an empty stream.
    startup = {"write": harness.timed(lambda: beam_write.run_beam(emulator, streams.new(shards), 1, recs)),
               "read": harness.timed(lambda: run_parallel_read(emulator, streams.new(shards), 1))}
    for row in rows:
        beam_side = not row["method"].startswith("async-kinesis")
        row["startup_s"] = startup[row["what"]] if beam_side else 0.0
        row["net_rps"] = row["records"] / max(row["seconds"] - row["startup_s"], 1e-3)
    for row in rows:
        peer = next(r for r in rows if r["what"] == row["what"] and r["method"].startswith("async-kinesis"))
        row["vs_async_kinesis"] = row["rps"] / peer["rps"]
        row["net_vs_async_kinesis"] = row["net_rps"] / peer["net_rps"]

    scaling = read_scaling(emulator, streams, recs, scaling_records, workers)
    return {"rows": rows, "scaling": scaling, "shards": shards, "size": size}


def table(data: Dict[str, Any]) -> str:
    return harness.markdown_table(
        ["", "method", "records", "seconds", "records/s", "vs async-kinesis", "Beam start-up s",
         "records/s without start-up", "vs async-kinesis, both without start-up"],
        [[r["what"], r["method"], r["records"], f"{r['seconds']:.2f}", f"{r['rps']:.0f}",
          f"{r['vs_async_kinesis']:.2f}x", f"{r['startup_s']:.2f}" if r["startup_s"] else "-",
          f"{r['net_rps']:.0f}", f"{r['net_vs_async_kinesis']:.2f}x"] for r in data["rows"]])


def scaling_table(data: Dict[str, Any]) -> str:
    return harness.markdown_table(
        ["DirectRunner workers", "records (8 shards)", "seconds", "records/s (whole run)", "start-up s (empty stream)",
         "records/s after start-up", "vs 1 worker"],
        [[r["workers"], r["records"], f"{r['seconds']:.2f}", f"{r['rps']:.0f}", f"{r['startup_s']:.2f}",
          f"{r['net_rps']:.0f}", f"{r['vs_1']:.2f}x"] for r in data["scaling"]])


def targets(data: Dict[str, Any]) -> str:
    lines = []
    for what, method in (("write", "WriteToKinesis"), ("read", "ReadFromKinesis")):
        row = next(r for r in data["rows"] if r["what"] == what and r["method"].startswith(method))
        verdict = "met" if row["net_vs_async_kinesis"] >= 1.0 else "NOT met"
        lines.append(f"- {method} >= 1.0x async-kinesis (both without start-up): {row['net_vs_async_kinesis']:.2f}x "
                     f"({verdict}); whole pipeline, start-up included: {row['vs_async_kinesis']:.2f}x")
    rates = [r["net_rps"] for r in data["scaling"]]
    peak = max(range(len(rates)), key=lambda i: rates[i])
    saturated = data["scaling"][peak]["workers"]
    rising = all(b > a for a, b in zip(rates[:peak + 1], rates[1:peak + 1]))
    lines.append(f"- read throughput with workers (after start-up): {', '.join(f'{r:.0f}/s' for r in rates)} for "
                 f"{', '.join(str(r['workers']) for r in data['scaling'])} workers; "
                 + (f"rising up to {saturated} workers" if rising else "not rising")
                 + ("" if saturated == data["scaling"][-1]["workers"] else
                    ", flat or falling beyond: the emulator (one Node.js process) and the machine's cores saturate"))
    return "\n".join(lines)
