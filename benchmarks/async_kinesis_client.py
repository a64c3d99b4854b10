"""The async-kinesis side of ``vs_async_kinesis.py``: its Producer or Consumer, timed in its own process.

Runs in a separate virtual environment (``requirements-async-kinesis.txt``): async-kinesis needs aiobotocore,
whose botocore pin conflicts with this project's boto3. Imports nothing of this project. Prints one JSON
line: ``{"seconds": ..., "records": ...}``, the time from creating the Producer/Consumer to the last record
flushed/read (interpreter start-up and imports excluded).

    python async_kinesis_client.py produce|consume ENDPOINT STREAM RECORDS SIZE
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from kinesis import Consumer, Producer
from kinesis.aggregators import SimpleAggregator
from kinesis.processors import Processor


class BytesProcessor(Processor, SimpleAggregator):
    """Payloads as they are (no JSON), one Kinesis record each: the same bytes the Beam transforms move."""

    def serialize(self, item: bytes) -> bytes:
        return item

    def deserialize(self, data: bytes) -> bytes:
        return data


async def produce(endpoint: str, stream: str, n: int, size: int) -> float:
    blob = bytes(range(256)) * (size // 256 + 1)
    started = time.perf_counter()
    async with Producer(stream, endpoint_url=endpoint, region_name="us-east-1", processor=BytesProcessor()) as p:
        for i in range(n):
            await p.put(blob[i % 256:i % 256 + size - 8] + i.to_bytes(8, "big"), partition_key=f"k{i}")
    return time.perf_counter() - started


async def consume(endpoint: str, stream: str, n: int, deadline: float = 600.0) -> float:
    started = time.perf_counter()
    seen = 0
    async with Consumer(stream, endpoint_url=endpoint, region_name="us-east-1", processor=BytesProcessor(),
                        iterator_type="TRIM_HORIZON", idle_timeout=30.0) as consumer:
        while seen < n and time.perf_counter() - started < deadline:
            async for item in consumer:
                seen += 1
                if seen >= n:
                    break
    if seen < n:
        raise SystemExit(f"async-kinesis read {seen} of {n} records")
    return time.perf_counter() - started


def main() -> None:
    mode, endpoint, stream, n, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    coro = produce(endpoint, stream, n, size) if mode == "produce" else consume(endpoint, stream, n)
    seconds = asyncio.run(coro)
    print(json.dumps({"seconds": seconds, "records": n}))


if __name__ == "__main__":
    main()
