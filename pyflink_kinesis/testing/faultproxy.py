"""A loopback HTTP proxy in front of the local Kinesis that injects the faults real Kinesis produces.

No emulator throttles or partially fails PutRecords, so tests put this between boto3 and the emulator.
It listens on 127.0.0.1 only, forwards every call to the emulator, and for a share of the PutRecords calls
(each fault with a share once first, then chosen with a seeded random generator) does one of:

- ``partial``: removes some entries from the request it forwards and answers them with an ``ErrorCode``
  (``ProvisionedThroughputExceededException`` or ``InternalFailure``) and ``FailedRecordCount``: those
  entries really were not written, as in Kinesis.
- ``throttle`` / ``limit``: answers 400 ``ProvisionedThroughputExceededException`` / ``LimitExceededException``
  for the whole call without forwarding it.
- ``error500``: answers 500 ``InternalFailure`` without forwarding.
- ``drop_before``: closes the connection without forwarding (nothing written, the client sees a
  connection error).
- ``drop_after``: forwards the call, then closes the connection instead of answering: the records were
  written but the client cannot know, so its retry writes them again. The proxy counts these records in
  :attr:`FaultProxy.dropped_after` so tests can allow exactly those duplicates.
- ``hold``: forwards the call (the records are stored at once), then holds the answer back ``hold_seconds``
  before sending it: a slow answer, as a loaded Kinesis gives. :attr:`FaultProxy.held` counts those records.

It also sleeps ``delay`` seconds before forwarding each PutRecords (a slow endpoint) and tracks how many
entries are inside PutRecords calls at once (:attr:`FaultProxy.max_inflight_entries`).

Reads and frozen endpoints: ``get_records_error500`` answers that share of GetRecords calls 500
InternalFailure; :meth:`FaultProxy.freeze` makes every call hang without an answer (a stopped process or a
network partition: connections are accepted, nothing comes back) until :meth:`FaultProxy.thaw`. Every
call's arrival time and ``X-Amz-Target`` operation is kept in :attr:`FaultProxy.calls`. :meth:`FaultProxy.down`
closes every connection at once without forwarding (an endpoint that went away) until :meth:`FaultProxy.up`.

``future_timestamps``: GetShardIterator and SubscribeToShard calls asking ``AT_TIMESTAMP`` past the proxy's clock
are answered 400 ``InvalidArgumentException`` in the service's (and kinesalite's) words, not kinesis-local's;
:attr:`FaultProxy.refused_timestamps` counts them. Any client (the Flink connector, the Beam reader, boto3) meets
the service's wording this way.

``expired_shards``: shards answered as the service answers once a closed shard is older than the stream's
retention: GetShardIterator, GetRecords (with an iterator the proxy passed on for that shard) and SubscribeToShard
get 400 ``ResourceNotFoundException``, ListShards answers leave the shard out; :attr:`FaultProxy.expired_answers`
counts the refusals by operation. These calls then skip the other read faults.

``read_operations`` (e.g. ``("GetRecords",)``) extends the faults to reads: those calls are delayed, answered
with throttling or 500 errors, or have their connection dropped before or after forwarding, drawn from the
same shares (``partial`` forwards them unchanged); :attr:`FaultProxy.read_faults` counts them.

The server stops itself after ``max_lifetime`` seconds even if a test forgets to stop it.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from collections import Counter
from typing import Any, Dict, List, Optional, Tuple

from .relay import LoopbackProxy, RelayHandler

PUT_RECORDS = "Kinesis_20131202.PutRecords"
GET_RECORDS = "Kinesis_20131202.GetRecords"
_SHARD_OPERATIONS = ("ListShards", "GetShardIterator", "GetRecords", "SubscribeToShard")
FAULTS = ("partial", "throttle", "limit", "error500", "drop_before", "drop_after", "hold")


class FaultProxy(LoopbackProxy):
    """Start with ``with FaultProxy(emulator_port, partial=0.2, ...) as proxy:`` and point clients at ``proxy.endpoint``.

    The proxy speaks HTTP/1.1 only: a Flink connector writing through it needs :data:`CLIENT_PROPERTIES`.

    Args:
        upstream_port: The emulator's plain HTTP port on 127.0.0.1.
        seed: Seed of the fault choices.
        partial: Share of PutRecords calls that fail partially.
        partial_entries: Share of a partially failed call's entries that fail (at least one).
        throttle: Share answered 400 ProvisionedThroughputExceededException.
        limit: Share answered 400 LimitExceededException.
        error500: Share answered 500 InternalFailure.
        drop_before: Share whose connection is closed before forwarding.
        drop_after: Share forwarded, then their connection closed without an answer.
        hold: Share forwarded, then answered ``hold_seconds`` later.
        hold_seconds: How long a ``hold`` answer is held back.
        delay: Seconds to wait before forwarding each PutRecords.
        max_lifetime: Seconds after which the proxy stops by itself.
        read_operations: Other Kinesis operations (``"GetRecords"``, ...) that get the faults and the delay.
        future_timestamps: Refuse an AT_TIMESTAMP iterator or subscription past the proxy's clock as the service does.
        expired_shards: Shard ids to answer as expired (gone from the listing, ResourceNotFoundException).
    """

    thread_name = "faultproxy"

    def __init__(self, upstream_port: int, *, seed: int = 0, partial: float = 0.0, partial_entries: float = 0.3,
                 throttle: float = 0.0, limit: float = 0.0, error500: float = 0.0, drop_before: float = 0.0,
                 drop_after: float = 0.0, hold: float = 0.0, hold_seconds: float = 15.0, delay: float = 0.0,
                 max_lifetime: float = 300.0, get_records_error500: float = 0.0,
                 read_operations: Tuple[str, ...] = (), future_timestamps: bool = False,
                 expired_shards: Tuple[str, ...] = ()) -> None:
        super().__init__(upstream_port, max_lifetime)
        self.rates = {"partial": partial, "throttle": throttle, "limit": limit, "error500": error500,
                      "drop_before": drop_before, "drop_after": drop_after, "hold": hold}
        self.hold_seconds = hold_seconds
        self.held = 0  # records whose answer was held back
        if sum(self.rates.values()) > 1.0:
            raise ValueError("fault shares add up to more than 1")
        self.partial_entries = partial_entries
        self.get_records_error500 = get_records_error500
        self.calls: List[Tuple[float, str]] = []  # (time.monotonic(), operation) of every call
        self._thawed = threading.Event()
        self._thawed.set()
        self._down = False
        self.down_since = float("inf")  # time.monotonic() of the last down()
        self.delay = delay
        self.read_targets = {f"Kinesis_20131202.{op}" for op in read_operations}
        self.read_faults: Counter = Counter()  # fault kind -> read calls
        self.future_timestamps = future_timestamps
        self.refused_timestamps = 0
        self.expired_shards = set(expired_shards)
        self.expired_answers: Counter = Counter()  # operation -> calls answered ResourceNotFoundException
        self._iterator_shards: Dict[str, str] = {}  # shard iterator passed on -> its shard
        self._rng = random.Random(seed)
        self.faults: Counter = Counter()  # fault kind -> calls
        self.failed_entries = 0  # entries answered with an ErrorCode
        self.put_records_calls = 0
        self.dropped_after: Counter = Counter()  # record data -> times written without the client being told
        self.inflight_entries = 0
        self.max_inflight_entries = 0

    def freeze(self) -> None:
        """From now on, calls get no answer (until :meth:`thaw`): a frozen endpoint."""
        self._thawed.clear()

    def thaw(self) -> None:
        """Answer calls again; the calls that hung are never answered."""
        self._thawed.set()

    def down(self) -> None:
        """From now on, close every connection without forwarding (until :meth:`up`); :attr:`down_since` is when."""
        self.down_since = time.monotonic()
        self._down = True

    def up(self) -> None:
        """Forward calls again."""
        self._down = False
        self.forwarding = 0  # calls being forwarded to the emulator now

    def operations(self, name: str) -> List[float]:
        """Arrival times of the calls of one operation, e.g. ``"GetRecords"``."""
        with self._lock:
            return [t for t, op in self.calls if op == name]

    def choose(self, read: bool = False) -> Optional[str]:
        """The fault for the next PutRecords call (or read call), or None."""
        with self._lock:
            if not read:
                self.put_records_calls += 1
                # Each fault with a share happens once first, so every retry path is taken whatever the call count.
                pending = [kind for kind in FAULTS if self.rates[kind] > 0 and self.faults[kind] == 0]
                if pending:
                    self.faults[pending[0]] += 1
                    return pending[0]
            x = self._rng.random()
            for kind in FAULTS:
                x -= self.rates[kind]
                if x < 0:
                    (self.read_faults if read else self.faults)[kind] += 1
                    return kind
            return None

    def pick_failing(self, n: int) -> List[int]:
        with self._lock:
            chosen = [i for i in range(n) if self._rng.random() < self.partial_entries]
            return chosen or [self._rng.randrange(n)]


class _Handler(RelayHandler):
    owner: FaultProxy

    def do_POST(self) -> None:
        body = self.body()
        proxy = self.owner
        target = self.headers.get("X-Amz-Target") or ""
        with proxy._lock:
            proxy.calls.append((time.monotonic(), target.rpartition(".")[2]))
        if proxy._down:
            self.drop()
            return
        if not proxy._thawed.is_set():
            proxy._thawed.wait(proxy.max_lifetime)
            self.drop()  # a call that hung never gets an answer
            return
        if proxy.expired_shards and self._expired(target.rpartition(".")[2], body):
            return
        if proxy.future_timestamps and self._refuse_future_timestamp(target, body):
            return
        if target == GET_RECORDS and proxy.get_records_error500:
            with proxy._lock:
                fail = proxy._rng.random() < proxy.get_records_error500
            if fail:
                self.error(500, "InternalFailure", "injected internal failure")
                return
        if target in proxy.read_targets:
            self._read(body)
            return
        if target != PUT_RECORDS:
            self.relay(body)
            return
        request = json.loads(body)
        entries = request.get("Records", [])
        with proxy._lock:
            proxy.inflight_entries += len(entries)
            proxy.max_inflight_entries = max(proxy.max_inflight_entries, proxy.inflight_entries)
        try:
            if proxy.delay:
                time.sleep(proxy.delay)
            self._put_records(request, entries, body)
        finally:
            with proxy._lock:
                proxy.inflight_entries -= len(entries)

    def _put_records(self, request: Dict[str, Any], entries: List[Dict[str, Any]], body: bytes) -> None:
        proxy = self.owner
        fault = proxy.choose()
        stream = request.get("StreamName", "?")
        if self._refuse(fault, f"stream {stream}"):
            return
        if fault == "drop_after":
            status, _, answer = self.forward(body)
            if status == 200:
                with proxy._lock:
                    for e in entries:
                        proxy.dropped_after[base64.b64decode(e["Data"])] += 1
            self.drop()
        elif fault == "hold":
            forwarded_answer = self.forward(body)
            with proxy._lock:
                proxy.held += len(entries)
            time.sleep(proxy.hold_seconds)
            self.respond(*forwarded_answer)
        elif fault == "partial":
            failing = set(proxy.pick_failing(len(entries)))
            kept = [e for i, e in enumerate(entries) if i not in failing]
            forwarded: List[Dict[str, Any]] = []
            if kept:
                status, headers, answer = self.forward(json.dumps(dict(request, Records=kept)).encode())
                if status != 200:
                    self.respond(status, headers, answer)
                    return
                forwarded = json.loads(answer)["Records"]
            results, it = [], iter(forwarded)
            for i in range(len(entries)):
                if i in failing:
                    code = "ProvisionedThroughputExceededException" if i % 2 == 0 else "InternalFailure"
                    results.append({"ErrorCode": code, "ErrorMessage": f"injected {code} for stream {stream}"})
                else:
                    results.append(next(it))
            with proxy._lock:
                proxy.failed_entries += len(failing)
            self.respond_json({"FailedRecordCount": len(failing), "Records": results})
        else:
            self.respond(*self.forward(body))

    def _refuse(self, fault: Optional[str], what: str) -> bool:
        """Answer a throttle, limit, 500 or drop_before fault without forwarding; False for other faults."""
        if fault == "throttle":
            self.error(400, "ProvisionedThroughputExceededException", f"Rate exceeded for {what}")
        elif fault == "limit":
            self.error(400, "LimitExceededException", "Too many requests")
        elif fault == "error500":
            self.error(500, "InternalFailure", "injected internal failure")
        elif fault == "drop_before":
            self.drop()
        else:
            return False
        return True

    def _refuse_future_timestamp(self, target: str, body: bytes) -> bool:
        """Answer an AT_TIMESTAMP GetShardIterator or SubscribeToShard past this clock with the service's words."""
        operation = target.rpartition(".")[2]
        if operation not in ("GetShardIterator", "SubscribeToShard"):
            return False
        request = json.loads(body or b"{}")
        position = request if operation == "GetShardIterator" else request.get("StartingPosition") or {}
        kind = position.get("ShardIteratorType" if operation == "GetShardIterator" else "Type")
        now_ms = int(time.time() * 1000)
        if kind != "AT_TIMESTAMP" or float(position.get("Timestamp", 0)) * 1000 <= now_ms:
            return False
        with self.owner._lock:
            self.owner.refused_timestamps += 1
        self.error(400, "InvalidArgumentException",
                    "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. "
                    f"timestampInMillis: {int(float(position['Timestamp']) * 1000)}, currentTimestampInMillis: {now_ms}")
        return True

    def _expired(self, operation: str, body: bytes) -> bool:
        """A call naming shards while some are expired: refused for an expired shard, else forwarded (ListShards
        without the expired shards; the shard of each iterator passed on is remembered). False: not answered here
        (another operation, or a subscription to a shard that is not expired)."""
        if operation not in _SHARD_OPERATIONS:
            return False
        proxy, request = self.owner, json.loads(body or b"{}")
        shard = (proxy._iterator_shards.get(request.get("ShardIterator", "")) if operation == "GetRecords"
                 else request.get("ShardId"))
        if shard in proxy.expired_shards:
            with proxy._lock:
                proxy.expired_answers[operation] += 1
            self.error(400, "ResourceNotFoundException", f"Shard {shard} in stream "
                        f"{request.get('StreamName', '?')} under account 000000000000 does not exist")
            return True
        if operation == "SubscribeToShard":
            return False
        status, headers, answer = self.forward(body)
        if status == 200:
            reply = json.loads(answer)
            if operation == "ListShards":
                reply["Shards"] = [s for s in reply.get("Shards", []) if s["ShardId"] not in proxy.expired_shards]
                answer = json.dumps(reply).encode()
            iterator = reply.get("ShardIterator") or reply.get("NextShardIterator")
            if iterator:
                with proxy._lock:
                    proxy._iterator_shards[iterator] = shard or ""
        self.respond(status, headers, answer)
        return True

    def _read(self, body: bytes) -> None:
        if self.owner.delay:
            time.sleep(self.owner.delay)
        fault = self.owner.choose(read=True)
        if self._refuse(fault, "shard"):
            return
        if fault == "drop_after":
            self.forward(body)
            self.drop()
        else:
            self.relay(body)


FaultProxy.handler = _Handler
