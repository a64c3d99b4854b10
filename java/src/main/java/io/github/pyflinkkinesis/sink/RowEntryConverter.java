package io.github.pyflinkkinesis.sink;

import java.util.function.LongSupplier;

import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.connector.base.sink.writer.ElementConverter;
import org.apache.flink.types.Row;

/**
 * Turns the sink's input Row (the layout of {@link Rows#ROW_TYPE}) into a validated entry, stamped with when it
 * entered the sink and checked against its stream's record size limit. Each writer makes its own, with its
 * limits and clock; the sink's own instance (which {@code AsyncSinkBase} asks for but never applies) has neither
 * and checks the limit no stream exceeds.
 */
final class RowEntryConverter implements ElementConverter<Row, KinesisSinkEntry> {
    private static final long serialVersionUID = 1L;

    private final transient RecordSizeLimits limits;
    private final transient LongSupplier clock;

    /** The sink's instance: no stream's own limit, the system clock. */
    RowEntryConverter() {
        this(null, System::currentTimeMillis);
    }

    /** A writer's: checks {@code limits}, stamps entries with {@code clock} (milliseconds). */
    RowEntryConverter(RecordSizeLimits limits, LongSupplier clock) {
        this.limits = limits;
        this.clock = clock;
    }

    @Override
    public KinesisSinkEntry apply(Row row, SinkWriter.Context context) {
        if (row.getArity() != Rows.FIELD_NAMES.length) {
            throw new IllegalArgumentException("Kinesis sink: expected a Row of " + Rows.FIELD_NAMES.length
                    + " fields (" + String.join(", ", Rows.FIELD_NAMES) + "), got " + row.getArity() + " fields");
        }
        KinesisSinkEntry entry = KinesisSinkEntry.of(
                (String) Rows.sinkField(row, "stream"),
                (String) Rows.sinkField(row, "partition_key"),
                (String) Rows.sinkField(row, "explicit_hash_key"),
                (byte[]) Rows.sinkField(row, "data"),
                clock.getAsLong());
        if (limits != null) {
            limits.check(entry);
        }
        return entry;
    }
}
