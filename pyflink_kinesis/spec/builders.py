"""Kinesis ingress and egress specs, and the builders that make them (StateFun's API in snake_case)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import timezone
from typing import Any, Callable, Iterable, Mapping, Optional

from .credentials import MASK, AwsCredentials
from .errors import ConfigError
from .position import KinesisIngressStartupPosition, parse_date
from .keys import default_of
from .properties import (aws_properties, botocore_settings, check_client_property, is_secret_key,
                         table_properties, sql_key)
from .records import STREAM_NAME
from .region import AwsRegion
from .serde import DeserializerLike, SerializerLike, as_function
from .ddl import CONNECTOR, create_table_sql, keyword_aliases, table_head

_ID = re.compile(r"^[^/\s]+/[^/\s]+$")
DEFAULT_MAX_OUTSTANDING_RECORDS = default_of("sink.requests.max-buffered", "flink")
MAX_BATCH_RECORDS = 500  # PutRecords' limit
FLINK_TIMESTAMP_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"


def check_identifier(identifier: object) -> str:
    """Return ``identifier`` if it reads ``namespace/name``."""
    if not isinstance(identifier, str) or not _ID.match(identifier):
        raise ConfigError(f"expected an id of the form 'namespace/name', got {identifier!r}", field="id")
    return identifier


def check_stream(stream: object, field: str = "stream") -> str:
    """Return ``stream`` if it is a valid Kinesis stream name (1-128 of ``a-zA-Z0-9_.-``)."""
    if not isinstance(stream, str) or not STREAM_NAME.fullmatch(stream):
        raise ConfigError(
            f"expected a stream name of 1 to 128 characters from a-z, A-Z, 0-9, '_', '.', '-', got {stream!r}",
            field=field,
        )
    return stream


@dataclass(frozen=True)
class Routing:
    """Where a routable ingress sends a stream's records.

    Attributes:
        type_url: The type of the payload (StateFun ``typeUrl`` or ``valueType``).
        targets: Function types (``namespace/name``) that each receive every record.
    """

    type_url: str
    targets: tuple[str, ...]


@dataclass(frozen=True, repr=False)
class _AwsSpec:
    id: str
    region: AwsRegion
    credentials: AwsCredentials
    client_properties: tuple[tuple[str, str], ...]

    def __repr__(self) -> str:
        # The dataclass repr, with secret client properties (aws.*.secretkey, ...) shown as ****.
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "client_properties":
                value = tuple((k, MASK if is_secret_key(k) else v) for k, v in value)
            parts.append(f"{f.name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def aws_properties(self) -> dict[str, str]:
        """The AWS client keys of the Flink connector (``aws.region``, ``aws.credentials.provider``, ...)."""
        return aws_properties(self.region, self.credentials, self.client_properties)

    def botocore_config(self) -> dict[str, Any]:
        """botocore ``Config`` arguments (timeouts, pool size, retries) for boto3 clients."""
        return botocore_settings(self.aws_properties(), self.client_properties)

    def boto3_arguments(self) -> dict[str, Any]:
        """The boto3 session credentials and ``client()`` arguments this spec means."""
        from .boto import boto3_arguments

        return boto3_arguments(self.aws_properties(), self.botocore_config())

    def create_client(self, session: Any = None) -> Any:
        """A boto3 Kinesis client for this spec.

        Args:
            session: A boto3 Session to use instead of one built from the spec's credentials.
        """
        from .boto import create_client

        return create_client(self.aws_properties(), self.botocore_config(), session)

    @keyword_aliases("partitioned_by")
    def create_table_sql(self, name: str, schema: Any, format: str = "raw", *, stream: Optional[str] = None,
                         stream_arn: Optional[str] = None, watermark: Optional[str] = None,
                         partition_by: Optional[Iterable[str]] = None, connector: str = CONNECTOR,
                         mask_secrets: bool = False) -> str:
        """A ``CREATE TABLE`` statement for a table on this spec: :func:`pyflink_kinesis.table.create_table_sql`
        with this spec first (the same arguments; ``partitioned_by=`` is accepted for ``partition_by``)."""
        return create_table_sql(self, name, schema, format, stream=stream, stream_arn=stream_arn,  # type: ignore[arg-type]
                                watermark=watermark, partition_by=partition_by, connector=connector,
                                mask_secrets=mask_secrets)


@dataclass(frozen=True, repr=False)
class KinesisIngressSpec(_AwsSpec):
    """What to read from Kinesis and how. Build it with :class:`KinesisIngressBuilder` or load it from YAML.

    Attributes:
        id, region, credentials: The ingress's ``namespace/name``, AWS region or custom endpoint, and how to
            authenticate.
        client_properties: ``(key, value)`` pairs passed to the client (``aws.*``, ``source.*``, SDK v1 names).
        streams: The streams to read, in order.
        startup_position: Where to start without saved state.
        deserializer: Turns an IngressRecord into a value (``None`` skips); ``None`` emits IngressRecords.
        routing: For a routable (YAML) ingress, each stream's type url and targets.
    """

    streams: tuple[str, ...] = ()
    startup_position: KinesisIngressStartupPosition = KinesisIngressStartupPosition.from_latest()
    deserializer: Optional[Callable[[Any], Any]] = field(default=None, compare=False)
    routing: Mapping[str, Routing] = field(default_factory=dict)

    def source_properties(self) -> dict[str, str]:
        """The configuration of the Flink connector's FLIP-27 KinesisStreamsSource.

        Contains the AWS keys of :meth:`aws_properties` and ``source.init.position``
        (``LATEST``, ``TRIM_HORIZON`` or ``AT_TIMESTAMP`` with ``source.init.timestamp``).
        Secret values are included: pass them to the connector, print :func:`masked` copies.
        """
        out = self.aws_properties()
        for key in ("source.init.position", "source.init.timestamp", "source.init.timestamp.format"):
            out.pop(key, None)
        out["source.init.position"] = self.startup_position.iterator_type
        if self.startup_position.date is not None:
            utc = self.startup_position.date.astimezone(timezone.utc)
            out["source.init.timestamp"] = utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
            out["source.init.timestamp.format"] = FLINK_TIMESTAMP_FORMAT
        return out

    def sql_options(self, stream_arn: Optional[str] = None, format: str = "raw", *, stream: Optional[str] = None,
                    connector: str = CONNECTOR) -> dict[str, str]:
        """Options of a SQL table that reads one of this ingress's streams.

        Args:
            stream_arn: The stream's ARN (take it from DescribeStreamSummary; account ids differ).
            format: The table format, e.g. ``"raw"`` (bytes), ``"json"`` or ``"csv"``.
            stream: The stream's name instead of an ARN (``pyflink-kinesis`` only); by default the
                ingress's stream, if it reads exactly one.
            connector: ``"pyflink-kinesis"`` (this package's jar) or ``"kinesis"`` (the official connector).
        """
        if stream is None and len(self.streams) == 1:
            stream = self.streams[0]
        options = table_head(connector, stream_arn, stream, format, required=True)
        options.update({sql_key(k): v for k, v in table_properties(self, self.source_properties(), connector).items()})
        return options


@dataclass(frozen=True, repr=False)
class KinesisEgressSpec(_AwsSpec):
    """Where and how to write to Kinesis. Build it with :class:`KinesisEgressBuilder` or load it from YAML.

    Attributes:
        id, region, credentials: The egress's ``namespace/name``, region or custom endpoint, and credentials.
        client_properties: ``(key, value)`` pairs passed to the client (``aws.*``, ``sink.*``, SDK v1 names).
        serializer: Turns a value into an EgressRecord (``None`` skips); ``None`` means values are EgressRecords.
        max_outstanding_records: Records buffered or in flight before writers apply backpressure.
    """

    serializer: Optional[Callable[[Any], Any]] = field(default=None, compare=False)
    max_outstanding_records: int = DEFAULT_MAX_OUTSTANDING_RECORDS

    def sink_properties(self) -> dict[str, str]:
        """The AWS client configuration of the Flink connector's KinesisStreamsSink."""
        return self.aws_properties()

    def sql_options(self, stream_arn: Optional[str] = None, format: str = "raw", *, stream: Optional[str] = None,
                    connector: str = CONNECTOR) -> dict[str, str]:
        """Options of a SQL table that writes to a stream.

        ``max_outstanding_records`` becomes ``sink.requests.max-buffered``, the
        records the sink buffers before it applies backpressure.

        Args:
            stream_arn: The target stream's ARN.
            format: The table format, e.g. ``"raw"``, ``"json"`` or ``"csv"``.
            stream: The target stream's name instead of an ARN (``pyflink-kinesis`` only; may be left out
                when the table has a ``METADATA FROM 'stream'`` column naming each row's stream).
            connector: ``"pyflink-kinesis"`` (this package's jar) or ``"kinesis"`` (the official connector).
        """
        options = table_head(connector, stream_arn, stream, format, required=False)
        options.update({sql_key(k): v for k, v in table_properties(self, self.sink_properties(), connector).items()})
        options.update(self.buffer_properties())
        return options

    def buffer_properties(self) -> dict[str, str]:
        """``sink.requests.max-buffered`` = ``max_outstanding_records``, and a ``sink.batch.max-size`` below it.

        As in the Beam transforms, a client property ``sink.requests.max-buffered`` decides when
        ``max_outstanding_records`` was left at its default.

        Flink's async sinks need a batch smaller than the buffer; a client property
        ``sink.batch.max-size`` (or ``CollectionMaxCount``) is kept when it fits. With
        ``sink.aggregation.enabled`` and no such property, the batch is left to the Java sink (half the buffer,
        in user records: a call carries their aggregates).
        """
        props = self.sink_properties()
        outstanding = self.max_outstanding_records
        if outstanding == DEFAULT_MAX_OUTSTANDING_RECORDS and "sink.requests.max-buffered" in props:
            outstanding = int(props["sink.requests.max-buffered"])  # left at its default: the property decides
        if "sink.batch.max-size" not in props and props.get("sink.aggregation.enabled", "").lower() == "true":
            return {"sink.requests.max-buffered": str(max(outstanding, 2))}
        batch = int(props.get("sink.batch.max-size", MAX_BATCH_RECORDS))
        batch = max(1, min(batch, outstanding - 1))
        return {"sink.batch.max-size": str(batch), "sink.requests.max-buffered": str(max(outstanding, batch + 1))}


class _AwsBuilder:
    def __init__(self, identifier: str) -> None:
        self._id = check_identifier(identifier)
        self._region: Optional[AwsRegion] = None
        self._credentials: Optional[AwsCredentials] = None
        self._properties: dict[str, str] = {}

    def with_aws_region(self, region: AwsRegion) -> Any:
        """Set the region (default: the default provider chain).

        Args:
            region: From ``AwsRegion.of``, ``.of_custom_endpoint`` or ``.from_default_provider_chain``.
        """
        if not isinstance(region, AwsRegion):
            raise ConfigError(f"expected an AwsRegion, got {type(region).__name__}", field="aws_region")
        self._region = region
        return self

    def with_aws_credentials(self, credentials: AwsCredentials) -> Any:
        """Set the credentials (default: the default provider chain).

        Args:
            credentials: From one of the ``AwsCredentials`` class methods.
        """
        if not isinstance(credentials, AwsCredentials):
            raise ConfigError(f"expected AwsCredentials, got {type(credentials).__name__}", field="aws_credentials")
        self._credentials = credentials
        return self

    def with_client_configuration_property(self, key: str, value: Any) -> Any:
        """Set a client property. Named settings (region, credentials, position) win over properties.

        Args:
            key: ``aws.*``, ``source.*`` or ``sink.*`` keys of the Flink connector, or an AWS SDK v1
                name such as ``SocketTimeout`` or ``MaxConnections`` (mapped to SDK v2 and botocore).
            value: The value; numbers and booleans are written as text.
        """
        key, text = check_client_property(key, value)
        self._properties[key] = text
        return self

    def with_client_configuration_properties(self, properties: Mapping[str, Any]) -> Any:
        """Set several client properties at once (see :meth:`with_client_configuration_property`)."""
        for key, value in properties.items():
            self.with_client_configuration_property(key, value)
        return self

    def _common(self) -> dict[str, Any]:
        return {
            "id": self._id,
            "region": self._region or AwsRegion.from_default_provider_chain(),
            "credentials": self._credentials or AwsCredentials.from_default_provider_chain(),
            "client_properties": tuple(self._properties.items()),
        }


class KinesisIngressBuilder(_AwsBuilder):
    """Builds a :class:`KinesisIngressSpec`; every ``with_*`` returns the builder."""

    def __init__(self, identifier: str) -> None:
        super().__init__(identifier)
        self._streams: list[str] = []
        self._position: Optional[KinesisIngressStartupPosition] = None
        self._deserializer: Optional[Callable[[Any], Any]] = None
        self._routing: dict[str, Routing] = {}

    @classmethod
    def for_identifier(cls, identifier: str) -> "KinesisIngressBuilder":
        """Start a builder for the ingress ``identifier`` (``"namespace/name"``)."""
        return cls(identifier)

    def with_stream(self, stream: str) -> "KinesisIngressBuilder":
        """Add a stream to read (by name)."""
        stream = check_stream(stream)
        if stream not in self._streams:
            self._streams.append(stream)
        return self

    def with_streams(self, streams: Iterable[str]) -> "KinesisIngressBuilder":
        """Add several streams to read."""
        if isinstance(streams, str):
            raise ConfigError("expected a list of stream names, got a single string; use with_stream()", field="streams")
        for stream in streams:
            self.with_stream(stream)
        return self

    def with_startup_position(self, position: KinesisIngressStartupPosition) -> "KinesisIngressBuilder":
        """Set where to start without saved state (default: latest)."""
        if not isinstance(position, KinesisIngressStartupPosition):
            raise ConfigError(
                f"expected a KinesisIngressStartupPosition, got {type(position).__name__}", field="startup_position"
            )
        self._position = position
        return self

    def with_deserializer(self, deserializer: DeserializerLike) -> "KinesisIngressBuilder":
        """Set how records become values.

        Args:
            deserializer: A KinesisIngressDeserializer (class or instance), a callable taking an
                IngressRecord, or an import path ``"module:name"``. Returning ``None`` skips a record.

        Without a deserializer, readers emit the IngressRecords themselves.
        """
        self._deserializer = as_function(deserializer, "deserialize", "deserializer")
        return self

    def with_routing(self, stream: str, type_url: str, targets: Iterable[str]) -> "KinesisIngressBuilder":
        """Route a stream's records to functions, as a StateFun routable ingress does.

        Args:
            stream: The stream (added to the streams read if missing).
            type_url: The payload type, e.g. ``"com.example/User"``.
            targets: Function types ``"namespace/name"``; each gets every record.
        """
        self.with_stream(stream)
        targets = tuple(targets)
        if not targets:
            raise ConfigError("expected at least one target", field=f"routing.{stream}.targets")
        for target in targets:
            if not isinstance(target, str) or not _ID.match(target):
                raise ConfigError(f"expected 'namespace/name', got {target!r}", field=f"routing.{stream}.targets")
        if not isinstance(type_url, str) or not type_url:
            raise ConfigError(f"expected a type url, got {type_url!r}", field=f"routing.{stream}.type_url")
        self._routing[stream] = Routing(type_url, targets)
        return self

    def _position_from_properties(self) -> KinesisIngressStartupPosition:
        value = self._properties.get("source.init.position", "LATEST").upper()
        if value == "TRIM_HORIZON":
            return KinesisIngressStartupPosition.from_earliest()
        if value == "AT_TIMESTAMP":
            stamp = self._properties.get("source.init.timestamp")
            if stamp is None:
                raise ConfigError("AT_TIMESTAMP needs source.init.timestamp", field="client_properties.source.init.position")
            try:
                when = parse_date(stamp)
            except ConfigError as e:
                raise ConfigError(e.reason, field="client_properties.source.init.timestamp") from None
            return KinesisIngressStartupPosition.from_date(when)
        if value != "LATEST":
            raise ConfigError(
                f"expected LATEST, TRIM_HORIZON or AT_TIMESTAMP, got '{value}'", field="client_properties.source.init.position"
            )
        return KinesisIngressStartupPosition.from_latest()

    def build(self) -> KinesisIngressSpec:
        """Validate and return the spec; raises ConfigError naming the problem."""
        if not self._streams:
            raise ConfigError("at least one stream is required; call with_stream()", field="streams")
        return KinesisIngressSpec(
            **self._common(),
            streams=tuple(self._streams),
            startup_position=self._position or self._position_from_properties(),
            deserializer=self._deserializer,
            routing=dict(self._routing),
        )


class KinesisEgressBuilder(_AwsBuilder):
    """Builds a :class:`KinesisEgressSpec`; every ``with_*`` returns the builder."""

    def __init__(self, identifier: str) -> None:
        super().__init__(identifier)
        self._serializer: Optional[Callable[[Any], Any]] = None
        self._max_outstanding = DEFAULT_MAX_OUTSTANDING_RECORDS

    @classmethod
    def for_identifier(cls, identifier: str) -> "KinesisEgressBuilder":
        """Start a builder for the egress ``identifier`` (``"namespace/name"``)."""
        return cls(identifier)

    def with_serializer(self, serializer: SerializerLike) -> "KinesisEgressBuilder":
        """Set how values become records.

        Args:
            serializer: A KinesisEgressSerializer (class or instance), a callable returning an
                EgressRecord, or an import path ``"module:name"``. Returning ``None`` skips a value.
        """
        self._serializer = as_function(serializer, "serialize", "serializer")
        return self

    def with_max_outstanding_records(self, max_outstanding_records: int) -> "KinesisEgressBuilder":
        """Bound the records buffered or in flight before writers block (default 1000, must be > 0)."""
        if isinstance(max_outstanding_records, bool) or not isinstance(max_outstanding_records, int):
            raise ConfigError(
                f"expected a positive whole number, got {max_outstanding_records!r}", field="max_outstanding_records"
            )
        if max_outstanding_records <= 0:
            raise ConfigError(
                f"must be greater than 0, got {max_outstanding_records}", field="max_outstanding_records"
            )
        self._max_outstanding = max_outstanding_records
        return self

    def build(self) -> KinesisEgressSpec:
        """Validate and return the spec."""
        return KinesisEgressSpec(
            **self._common(), serializer=self._serializer, max_outstanding_records=self._max_outstanding
        )
