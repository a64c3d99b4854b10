"""A test kit for jobs and pipelines on Kinesis: what this project's tests and benchmarks use, for yours too.

- :func:`wait_until`, :func:`read_stream`, :func:`put_all`, :class:`Streams` (:mod:`.streams`): bounded waits,
  reading a whole stream back, writing with retries of failed entries, fresh streams with unique names;
  :func:`.streams.users_by_agg_library` de-aggregates what was read with aws-kinesis-agg (not this project's code);
- :class:`~.faultproxy.FaultProxy`: a loopback HTTP proxy in front of a Kinesis endpoint that injects
  throttling, partial PutRecords failures, 5xx answers and dropped connections (no emulator produces them);
- :class:`~.shardlimits.ShardLimitsProxy`: a loopback HTTP proxy that holds every shard to the service's limits
  (1 MiB/s and 1,000 records/s in, 5 GetRecords calls/s and 2 MiB/s out), throttling as the service does;
- :class:`~.dropper.ConnectionDropper`: a loopback TCP relay to the emulator's TLS port that drops every open
  connection at once (HTTP/2 enhanced fan-out subscriptions, which the proxy cannot read);
- :class:`~.flink_child.FlinkChild` and :func:`~.flink_host.serve`: PyFlink jobs in a child process, driven
  from the test (start, savepoint, cancel, wait, metrics);
- :class:`~.metrics.Counters`: a stand-in for PyFlink's RuntimeContext, to call a function's ``open()`` outside
  Flink and read the counters it registers.

Pair them with :class:`pyflink_kinesis.local.LocalKinesis`. Importing this package imports no engine.
"""

from .streams import Streams, consumers, put_all, read_stream, wait_until

__all__ = ["Streams", "consumers", "put_all", "read_stream", "wait_until"]
