"""How the Kinesis transforms read and write: decided once, from the spec and the transform's arguments.

A spec carries the Flink connector's ``source.*`` / ``sink.*`` client properties, so one spec
configures every engine. :func:`read_settings` and :func:`write_settings` turn a spec into the
settings the Beam transforms run with, in this order of precedence:

1. an argument given to the transform (``ReadFromKinesis(..., poll_interval=0.5)``);
2. the spec's property (``source.reader.empty-records-fetch-interval: 500 ms``);
3. the transform's default.

A ``source.*`` / ``sink.*`` property Beam cannot honour gives a :class:`ConfigWarning`
naming the key and the engine, once per transform. Durations take Flink's forms: a number of
milliseconds, or a number with a unit (``ms``, ``s``, ``min``, ``h``), e.g. ``"10 s"``.
Importing this module does not import Beam or Flink.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from pyflink_kinesis.spec.errors import ConfigError, ConfigWarning, user_stacklevel
from pyflink_kinesis.spec.keys import Key, beam_default, default_of, lookup, unhonoured
from pyflink_kinesis.spec.properties import connector_properties
from pyflink_kinesis.spec.shard_limits import MAX_RECORD_SIZE_LIMIT
from pyflink_kinesis.spec.records import CONSUMER_LIFECYCLES, CONSUMER_NAME, JOB_MANAGED, MAX_RECORD_BYTES, SELF_MANAGED
from pyflink_kinesis.spec.serde import ON_DESERIALIZE_ERROR
from pyflink_kinesis.spec.builders import DEFAULT_MAX_OUTSTANDING_RECORDS, MAX_BATCH_RECORDS, KinesisEgressSpec, KinesisIngressSpec

MAX_GET_RECORDS = 10_000  # GetRecords' Limit
MAX_BATCH_BYTES = 5 * 1024 * 1024  # PutRecords: bytes per call, partition keys included
# Seconds a Kinesis call of the Beam transforms keeps being retried by default: an outage of a few minutes is survived.
DEFAULT_MAX_RETRY_TIME = float(beam_default("max_retry_time"))
STREAM_RECREATED = ("FAIL", "START_OVER")  # what a read does when its stream was deleted and created again
# Each direction warns about its own keys and the shared ones (aws.*, SDK v1 names), not the other direction's.
_OTHER_DIRECTION = {"source.": "sink.", "sink.": "source."}


# ---------------------------------------------------------------- shared helpers


def warn_unhonoured(spec: Any, prefix: str) -> None:
    """Warn (ConfigWarning) about each client property of ``spec`` that the Beam transforms do not act on, as the
    key registry (``pyflink_kinesis/spec/keys.json``) says; ``prefix`` (``"source."`` or ``"sink."``) is the
    direction: the other direction's keys are not this reader's or writer's business."""
    given = [(k, v) for k, v in spec.client_properties if not k.startswith(_OTHER_DIRECTION[prefix])]
    for key, why in unhonoured(given, "beam").items():
        warnings.warn(f"{spec.id}: client property '{key}' is not honoured by the beam engine; it is ignored: "
                      f"{why}", ConfigWarning, stacklevel=user_stacklevel())


def check_number(value: Any, name: str, *, integer: bool = False, allow_zero: bool = False,
                 low: Optional[float] = None, high: Optional[float] = None) -> Any:
    """Return ``value`` if it is a number in range (``None`` passes); raises ConfigError naming ``name``."""
    if value is None:
        return None
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or (isinstance(value, float) and math.isnan(value)):
        raise ConfigError(f"expected a {'whole ' if integer else ''}number, got {value!r}", field=name)
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"must be {'at least' if allow_zero else 'greater than'} 0, got {value}", field=name)
    if low is not None and value < low:
        raise ConfigError(f"must be at least {low:g}, got {value}", field=name)
    if high is not None and value > high:
        raise ConfigError(f"must be at most {high:g}, got {value}", field=name)
    return value


def as_seconds(value: Any, name: str) -> Optional[float]:
    """A duration as seconds: a number of seconds, a ``datetime.timedelta`` or a Beam ``Duration`` (``None`` passes).

    Raises:
        ConfigError: Not a duration, or negative; naming ``name``.
    """
    if value is None:
        return None
    if isinstance(value, timedelta):
        seconds: Any = value.total_seconds()
    elif hasattr(value, "micros") and not isinstance(value, (int, float)):  # apache_beam.utils.timestamp.Duration
        seconds = value.micros / 1e6
    else:
        seconds = value
    return float(check_number(seconds, name, allow_zero=True))


class _Props(Dict[str, str]):
    """A spec's client properties in the connector's key space, remembering the name each was given as
    (``RateLimit`` for ``sink.rate-limit``), so errors name what the user wrote."""

    def __init__(self, client_properties: Any) -> None:
        given = connector_properties(client_properties)
        super().__init__({key: value for key, (value, _) in given.items()})
        self.names = {key: name for key, (_, name) in given.items()}

    def field(self, key: str) -> str:
        """The field an error about ``key`` names."""
        return f"client_properties.{self.names.get(key, key)}"


def _pick(overrides: Mapping[str, Any], name: str, props: Mapping[str, str], key: str, default: Any
          ) -> Tuple[Any, str]:
    """The value of setting ``name`` and the field it came from: the override, the property (parsed as the
    key registry types it), or the default."""
    if overrides.get(name) is not None:
        return overrides[name], name
    if key in props:
        field = props.field(key) if isinstance(props, _Props) else f"client_properties.{key}"
        return _key(key).parse(props[key], field), field
    return default, name


def _key(name: str) -> Key:
    key = lookup(name)
    assert key is not None, name  # a registry key: keys.json declares it
    return key


def _start(spec: Any, prefix: str, settings: Any, overrides: Mapping[str, Any]
           ) -> Tuple[_Props, Dict[str, Any]]:
    """Warn about the ``prefix`` properties Beam cannot honour; the spec's properties (SDK v1 and KPL names as
    the keys they map to) and the overrides given (not ``None``), each of them a field of the ``settings``
    dataclass."""
    warn_unhonoured(spec, prefix)
    given = {k: v for k, v in overrides.items() if v is not None}
    unknown = sorted(set(given) - {f.name for f in fields(settings)})
    if unknown:
        raise ConfigError(f"unknown {settings.__name__} field(s) {unknown}", field=unknown[0])
    return _Props(spec.client_properties), given


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class ReadSettings:
    """How a reader reads; see ``ReadFromKinesis``'s arguments for each field."""

    max_records: Optional[int] = None
    max_read_time: Optional[float] = None
    stop_when_caught_up: bool = False
    idle_timeout: float = beam_default("idle_timeout")
    poll_interval: float = beam_default("poll_interval")
    shard_discovery_interval: float = beam_default("shard_discovery_interval")
    checkpoint_interval: float = beam_default("checkpoint_interval")
    max_records_per_call: int = beam_default("max_records_per_call")
    on_deserialize_error: str = beam_default("on_deserialize_error")
    fetch_threads: int = beam_default("fetch_threads")
    consumer_name: Optional[str] = None
    consumer_arn: Optional[str] = None
    consumer_lifecycle: str = SELF_MANAGED
    max_retry_time: float = DEFAULT_MAX_RETRY_TIME
    timestamp_fn: Optional[Callable[[Any, Any], Any]] = None
    max_out_of_orderness: float = beam_default("max_out_of_orderness")
    stream_recreated: str = beam_default("stream_recreated")  # FAIL or START_OVER

    @property
    def bounded(self) -> bool:
        """True if any bounded mode is set."""
        return self.max_records is not None or self.max_read_time is not None or self.stop_when_caught_up

    @property
    def fan_out(self) -> bool:
        """True when shards are read with enhanced fan-out (SubscribeToShard) rather than GetRecords."""
        return self.consumer_name is not None or self.consumer_arn is not None

    @property
    def consumer_label(self) -> str:
        """The consumer as errors name it."""
        return repr(self.consumer_name) if self.consumer_name is not None else str(self.consumer_arn)


_READ_DEFAULTS = ReadSettings()


def read_settings(spec: KinesisIngressSpec, **overrides: Any) -> ReadSettings:
    """The settings a Beam reader of ``spec`` runs with: overrides, then the spec's ``source.*`` keys.

    Args:
        spec: The ingress spec.
        overrides: ``ReadFromKinesis`` arguments (``None`` means not given); each wins over its property.

    Raises:
        ConfigError: A value is out of range, naming the argument or the client property.
    """
    props, given = _start(spec, "source.", ReadSettings, overrides)
    d = _READ_DEFAULTS
    check_number(given.get("max_records"), "max_records", integer=True)
    check_number(given.get("max_read_time"), "max_read_time")
    check_number(given.get("idle_timeout"), "idle_timeout", allow_zero=True)
    check_number(given.get("checkpoint_interval"), "checkpoint_interval")
    check_number(given.get("fetch_threads"), "fetch_threads", integer=True)
    stop = given.get("stop_when_caught_up", False)
    if not isinstance(stop, bool):
        raise ConfigError(f"expected True or False, got {stop!r}", field="stop_when_caught_up")
    on_error = given.get("on_deserialize_error", d.on_deserialize_error)
    if on_error not in ON_DESERIALIZE_ERROR:
        raise ConfigError(f"expected 'fail' or 'skip', got {on_error!r}", field="on_deserialize_error")

    per_call, field = _pick(given, "max_records_per_call", props, "source.shard.get-records.max-record-count",
                            d.max_records_per_call)
    check_number(per_call, field, integer=True, high=MAX_GET_RECORDS)
    poll, field = _pick(given, "poll_interval", props, "source.reader.empty-records-fetch-interval", d.poll_interval)
    check_number(poll, field, allow_zero=True)
    discovery, field = _pick(given, "shard_discovery_interval", props, "source.shard.discovery.interval",
                             d.shard_discovery_interval)
    check_number(discovery, field)
    retry_time, field = _pick(given, "max_retry_time", props, "source.max-retry-time", d.max_retry_time)
    check_number(retry_time, field)
    timestamp_fn = given.get("timestamp_fn")
    if timestamp_fn is not None and not callable(timestamp_fn):
        raise ConfigError(f"expected a function (record, value) -> event time, got {timestamp_fn!r}",
                          field="timestamp_fn")
    out_of_orderness = as_seconds(given.get("max_out_of_orderness"), "max_out_of_orderness")
    recreated, field = _pick(given, "stream_recreated", props, "source.stream-recreated", d.stream_recreated)
    if not isinstance(recreated, str) or recreated.upper().replace("-", "_") not in STREAM_RECREATED:
        raise ConfigError(f"expected 'fail' or 'start_over', got {recreated!r}", field=field)

    bounded = "max_records" in given or "max_read_time" in given or stop
    name, arn, lifecycle = _consumer(spec, props, given, bounded)
    return ReadSettings(
        max_records=given.get("max_records"),
        max_read_time=None if given.get("max_read_time") is None else float(given["max_read_time"]),
        stop_when_caught_up=stop,
        idle_timeout=float(given.get("idle_timeout", d.idle_timeout)),
        poll_interval=float(poll),
        shard_discovery_interval=float(discovery),
        checkpoint_interval=float(given.get("checkpoint_interval", d.checkpoint_interval)),
        max_records_per_call=per_call,
        on_deserialize_error=on_error,
        fetch_threads=given.get("fetch_threads", d.fetch_threads),
        consumer_name=name,
        consumer_arn=arn,
        consumer_lifecycle=lifecycle,
        max_retry_time=float(retry_time),
        timestamp_fn=timestamp_fn,
        max_out_of_orderness=d.max_out_of_orderness if out_of_orderness is None else out_of_orderness,
        stream_recreated=recreated.upper().replace("-", "_"),
    )


def _consumer(spec: Any, props: Mapping[str, str], given: Mapping[str, Any], bounded: bool
              ) -> Tuple[Optional[str], Optional[str], str]:
    """The fan-out consumer's name, ARN and lifecycle: the arguments, else the spec's ``source.reader.type: EFO``."""
    name, arn = given.get("consumer_name"), given.get("consumer_arn")
    lifecycle = given.get("consumer_lifecycle")
    if name is None and arn is None and _key("source.reader.type").read(props, "beam") == "EFO":
        arn = props.get("source.efo.consumer.arn")
        name = None if arn is not None else props.get("source.efo.consumer.name")
        if name is None and arn is None:
            raise ConfigError("source.reader.type EFO needs source.efo.consumer.name or source.efo.consumer.arn",
                              field="client_properties.source.efo.consumer.name")
        if lifecycle is None:
            lifecycle = _spec_lifecycle(spec, props, bounded)
    lifecycle = lifecycle or SELF_MANAGED
    _check_fan_out(name, arn, lifecycle, bounded, len(spec.streams))
    return name, arn, lifecycle


def _spec_lifecycle(spec: Any, props: Mapping[str, str], bounded: bool) -> str:
    """``source.efo.lifecycle`` as a consumer lifecycle; JOB_MANAGED on a bounded read only."""
    text = _key("source.efo.lifecycle").read(props, "beam")
    if text == "JOB_MANAGED" and not bounded:
        warnings.warn(f"{spec.id}: client property 'source.efo.lifecycle' JOB_MANAGED is not honoured by the "
                      "beam engine for an unbounded read (nothing tells it the job ended); the consumer "
                      "stays registered", ConfigWarning, stacklevel=user_stacklevel())
        return SELF_MANAGED
    return JOB_MANAGED if text == "JOB_MANAGED" else SELF_MANAGED


def _check_fan_out(name: Any, arn: Any, lifecycle: Any, bounded: bool, streams: int) -> None:
    if name is not None and (not isinstance(name, str) or not CONSUMER_NAME.match(name)):
        raise ConfigError(f"expected 1 to 128 letters, digits, '_', '.' or '-', got {name!r}", field="consumer_name")
    if arn is not None:
        if not isinstance(arn, str) or not arn.startswith("arn:") or "/consumer/" not in arn:
            raise ConfigError(f"expected a stream consumer ARN (arn:...:stream/NAME/consumer/...), got {arn!r}",
                              field="consumer_arn")
        if name is not None:
            raise ConfigError("give consumer_name or consumer_arn, not both", field="consumer_arn")
        if streams != 1:
            raise ConfigError(f"a consumer ARN belongs to one stream; the spec reads {streams}", field="consumer_arn")
    if lifecycle not in CONSUMER_LIFECYCLES:
        raise ConfigError(f"expected 'self-managed' or 'job-managed', got {lifecycle!r}", field="consumer_lifecycle")
    if lifecycle == JOB_MANAGED and (name is None or not bounded):
        raise ConfigError("'job-managed' deregisters the consumer when a bounded read ends: it needs consumer_name "
                          "and max_records, max_read_time or stop_when_caught_up", field="consumer_lifecycle")


# ---------------------------------------------------------------- writing


def _producer_settings(props: _Props) -> Dict[str, Any]:
    """What the KPL did and the keys it maps to: aggregation, record TTL, pacing, throttling, record size."""
    read = lambda key: _key(key).read(props, "beam")  # noqa: E731
    field = props.field
    out: Dict[str, Any] = {
        "aggregation": read("sink.aggregation.enabled"),
        "aggregation_max_count": check_number(read("sink.aggregation.max-count"), field("sink.aggregation.max-count"),
                                              integer=True, high=2 ** 32 - 1),
        "aggregation_max_size": check_number(read("sink.aggregation.max-size"), field("sink.aggregation.max-size"),
                                             integer=True, low=64, high=MAX_RECORD_SIZE_LIMIT),
        "record_ttl": check_number(read("sink.record-ttl"), field("sink.record-ttl")),
        "fail_on_error": read("sink.fail-on-error"),
        "rate_limit": check_number(read("sink.rate-limit"), field("sink.rate-limit"), integer=True),
        "fail_on_throttling": read("sink.fail-on-throttling"),
        "max_record_size": check_number(read("sink.max-record-size"), field("sink.max-record-size"), integer=True,
                                        high=MAX_RECORD_SIZE_LIMIT),
    }
    return out


@dataclass(frozen=True)
class WriteSettings:
    """How a writer batches, sends and retries records; see ``WriteToKinesis``'s arguments for each field.

    Attributes:
        max_batch_records: Records per PutRecords call (``sink.batch.max-size``, default 500, at most 500).
        max_batch_bytes: Bytes per call, partition keys included (``sink.flush-buffer.size``, default and most 5 MiB).
        max_concurrent_requests: PutRecords calls in flight at once (``sink.requests.max-inflight``, default 4).
        flush_interval: Seconds after which buffered records are sent even if no batch is full
            (``sink.flush-buffer.timeout``, in milliseconds, default 5000).
        max_outstanding_records: Records buffered plus in flight before the writer blocks (the spec's
            ``max_outstanding_records``, or ``sink.requests.max-buffered``).
        dead_letter: Records that cannot be written go to the ``failed`` output instead of failing the pipeline.
        max_attempts: PutRecords attempts per record, the first included; ``None``: bounded by time only.
        initial_backoff: Upper bound in seconds of the first backoff sleep.
        max_backoff: Upper bound in seconds of any backoff sleep.
        max_retry_time: Seconds after a batch's first attempt at which no retry is started any more.
        aggregation: Pack user records bound for one shard into KPL aggregates (``sink.aggregation.enabled``).
        aggregation_max_count: User records per aggregate at most (``sink.aggregation.max-count``).
        aggregation_max_size: Bytes per aggregate at most (``sink.aggregation.max-size``).
        record_ttl: Seconds within which a record must be written, else it is dropped (``sink.record-ttl``);
            ``None``: never dropped.
        fail_on_error: A record past ``record_ttl`` fails the pipeline instead (``sink.fail-on-error``).
        rate_limit: Percent of a shard's write limits each writer paces itself at (``sink.rate-limit``);
            ``None``: no pacing.
        fail_on_throttling: Fail on the first throttled record instead of retrying it (``sink.fail-on-throttling``).
        max_record_size: Largest record in bytes (``sink.max-record-size``); ``None``: the stream's own limit.
    """

    max_batch_records: int = beam_default("max_batch_records")
    max_batch_bytes: int = beam_default("max_batch_bytes")
    max_concurrent_requests: int = beam_default("max_concurrent_requests")
    flush_interval: float = beam_default("flush_interval")
    max_outstanding_records: int = DEFAULT_MAX_OUTSTANDING_RECORDS
    dead_letter: bool = beam_default("dead_letter")
    max_attempts: Optional[int] = None
    initial_backoff: float = beam_default("initial_backoff")
    max_backoff: float = beam_default("max_backoff")
    max_retry_time: float = DEFAULT_MAX_RETRY_TIME
    aggregation: bool = default_of("sink.aggregation.enabled", "beam")
    aggregation_max_count: int = default_of("sink.aggregation.max-count", "beam")
    aggregation_max_size: int = default_of("sink.aggregation.max-size", "beam")
    record_ttl: Optional[float] = None
    fail_on_error: bool = default_of("sink.fail-on-error", "beam")
    rate_limit: Optional[int] = None
    fail_on_throttling: bool = default_of("sink.fail-on-throttling", "beam")
    max_record_size: Optional[int] = None


_WRITE_DEFAULTS = WriteSettings()


def write_settings(spec: KinesisEgressSpec, **overrides: Any) -> WriteSettings:
    """The settings a Beam writer of ``spec`` runs with: overrides, then the spec's ``sink.*`` keys.

    Args:
        spec: The egress spec.
        overrides: ``WriteToKinesis`` arguments named as the fields of :class:`WriteSettings` (``None``: not given).

    Raises:
        ConfigError: A value is out of range, naming the argument or the client property.
    """
    props, given = _start(spec, "sink.", WriteSettings, overrides)
    d = _WRITE_DEFAULTS
    dead_letter = given.get("dead_letter", d.dead_letter)
    if not isinstance(dead_letter, bool):
        raise ConfigError(f"expected True or False, got {dead_letter!r}", field="dead_letter")
    check_number(given.get("max_attempts"), "max_attempts", integer=True)
    check_number(given.get("initial_backoff"), "initial_backoff", allow_zero=True)
    check_number(given.get("max_backoff"), "max_backoff", allow_zero=True)
    retry_time, field = _pick(given, "max_retry_time", props, "sink.max-retry-time", d.max_retry_time)
    check_number(retry_time, field)
    records, field = _pick(given, "max_batch_records", props, "sink.batch.max-size", d.max_batch_records)
    check_number(records, field, integer=True, high=MAX_BATCH_RECORDS)
    size, field = _pick(given, "max_batch_bytes", props, "sink.flush-buffer.size", d.max_batch_bytes)
    check_number(size, field, integer=True, low=MAX_RECORD_BYTES, high=MAX_BATCH_BYTES)
    inflight, field = _pick(given, "max_concurrent_requests", props, "sink.requests.max-inflight",
                            d.max_concurrent_requests)
    check_number(inflight, field, integer=True)
    flush, field = _pick(given, "flush_interval", props, "sink.flush-buffer.timeout", d.flush_interval)
    check_number(flush, field)
    # The builder's bound wins over the property unless it was left at its default.
    property_decides = spec.max_outstanding_records == DEFAULT_MAX_OUTSTANDING_RECORDS
    outstanding, field = _pick(given, "max_outstanding_records", props if property_decides else {},
                               "sink.requests.max-buffered", spec.max_outstanding_records)
    check_number(outstanding, field, integer=True)
    return WriteSettings(**_producer_settings(props),
        max_batch_records=records,
        max_batch_bytes=size,
        max_concurrent_requests=inflight,
        flush_interval=float(flush),
        max_outstanding_records=outstanding,
        dead_letter=dead_letter,
        max_attempts=given.get("max_attempts"),
        initial_backoff=float(given.get("initial_backoff", d.initial_backoff)),
        max_backoff=float(given.get("max_backoff", d.max_backoff)),
        max_retry_time=float(retry_time),
    )


__all__ = [
    "DEFAULT_MAX_RETRY_TIME",
    "STREAM_RECREATED",
    "ReadSettings",
    "WriteSettings",
    "as_seconds",
    "read_settings",
    "warn_unhonoured",
    "write_settings",
]
