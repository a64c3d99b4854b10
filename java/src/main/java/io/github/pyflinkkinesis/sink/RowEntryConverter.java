package io.github.pyflinkkinesis.sink;

import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.connector.base.sink.writer.ElementConverter;
import org.apache.flink.types.Row;

/** Turns the sink's input Row (the layout of {@link Rows#ROW_TYPE}) into a validated entry. */
final class RowEntryConverter implements ElementConverter<Row, KinesisSinkEntry> {
    private static final long serialVersionUID = 1L;

    @Override
    public KinesisSinkEntry apply(Row row, SinkWriter.Context context) {
        if (row.getArity() != Rows.FIELD_NAMES.length) {
            throw new IllegalArgumentException("Kinesis sink: expected a Row of " + Rows.FIELD_NAMES.length
                    + " fields (" + String.join(", ", Rows.FIELD_NAMES) + "), got " + row.getArity() + " fields");
        }
        return KinesisSinkEntry.of(
                (String) Rows.sinkField(row, "stream"),
                (String) Rows.sinkField(row, "partition_key"),
                (String) Rows.sinkField(row, "explicit_hash_key"),
                (byte[]) Rows.sinkField(row, "data"));
    }
}
