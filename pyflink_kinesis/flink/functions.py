"""The Python functions a PyFlink job runs between the connector's Java source and sink.

``SourceRowsToValues`` turns the source's rows into IngressRecords, deserializer values or RoutableMessages;
``ValuesToSinkRows`` turns values into the sink's rows with the egress's serializer. Both count what they skip
in Flink metrics (group ``kinesis``). Imported only where PyFlink is installed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from pyflink.common import Row, Types
from pyflink.datastream.functions import FlatMapFunction, RuntimeContext

from ..spec.routing import route
from ..spec.serde import deserialization_error, record_location, to_egress_record
from ..spec.records import IngressRecord
from ..spec.builders import KinesisEgressSpec, KinesisIngressSpec

_LOG = logging.getLogger(__name__)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
METRIC_GROUP = "kinesis"

# The sink's Row: stream, partition key, explicit hash key (nullable), data.
SINK_FIELDS = ("stream", "partition_key", "explicit_hash_key", "data")


def sink_row_type() -> Any:
    """The PyFlink type of the rows the connector's KinesisSink takes."""
    return Types.ROW_NAMED(list(SINK_FIELDS),
                           [Types.STRING(), Types.STRING(), Types.STRING(), Types.PRIMITIVE_ARRAY(Types.BYTE())])


def ingress_record(row: Row) -> IngressRecord:
    """The IngressRecord of one source row (arrival time in epoch milliseconds becomes an aware UTC datetime).

    The source declares the row's type (Java RowRecordDeserializer); this unpacks it by position, and
    tests/test_row_layouts.py holds the two together.
    """
    data, stream, shard_id, partition_key, sequence_number, sub_sequence_number, arrival_ms = row
    return IngressRecord(
        data=bytes(data), stream=stream, shard_id=shard_id, partition_key=partition_key,
        sequence_number=sequence_number, approximate_arrival_timestamp=_EPOCH + timedelta(milliseconds=arrival_ms),
        sub_sequence_number=sub_sequence_number,
    )


class SourceRowsToValues(FlatMapFunction):
    """Source row -> the ingress's values: deserializer values, RoutableMessages or IngressRecords.

    Args:
        spec: The ingress (its deserializer and routing are used; they travel pickled with the job).
        on_deserialize_error: ``"fail"`` raises a DeserializationError naming stream, shard and sequence
            number (the job fails); ``"skip"`` logs it and counts it in ``kinesis.deserialize_errors``.
    """

    def __init__(self, spec: KinesisIngressSpec, on_deserialize_error: str) -> None:
        self._spec = spec
        self._skip_errors = on_deserialize_error == "skip"
        self._skipped: Any = None
        self._errors: Any = None

    def open(self, runtime_context: RuntimeContext) -> None:
        group = runtime_context.get_metrics_group().add_group(METRIC_GROUP)
        self._skipped = group.counter("skipped_records")
        self._errors = group.counter("deserialize_errors")

    def flat_map(self, row: Row) -> Iterator[Any]:
        record = ingress_record(row)
        deserializer = self._spec.deserializer
        if deserializer is None:
            if self._spec.routing:
                yield from route(self._spec, record)
            else:
                yield record
            return
        try:
            value = deserializer(record)
        except Exception as e:  # noqa: BLE001 - user code
            if not self._skip_errors:
                raise deserialization_error(self._spec.id, record, e) from e
            self._errors.inc()
            _LOG.warning("ingress %s: skipping a record that failed to deserialize (%s): %r",
                         self._spec.id, record_location(record), e)
            return
        if value is None:
            self._skipped.inc()
            return
        yield value


class ValuesToSinkRows(FlatMapFunction):
    """Value -> the sink's row, with the egress's serializer; ``None`` skips (``kinesis.skipped_records``)."""

    def __init__(self, spec: KinesisEgressSpec) -> None:
        self._egress_id = spec.id
        self._serializer = spec.serializer
        self._skipped: Any = None
        self._index = 0

    def open(self, runtime_context: RuntimeContext) -> None:
        self._skipped = runtime_context.get_metrics_group().add_group(METRIC_GROUP).counter("skipped_records")

    def flat_map(self, value: Any) -> Iterator[Row]:
        self._index += 1
        record = to_egress_record(self._egress_id, self._serializer, value, f"value #{self._index} of this subtask")
        if record is None:
            self._skipped.inc()
            return
        yield Row(record.stream, record.partition_key, record.explicit_hash_key, record.data)
