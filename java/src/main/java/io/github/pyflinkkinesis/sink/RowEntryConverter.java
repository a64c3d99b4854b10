package io.github.pyflinkkinesis.sink;

import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.connector.base.sink.writer.ElementConverter;
import org.apache.flink.types.Row;

/** Turns the sink's input Row (stream, partition_key, explicit_hash_key, data) into a validated entry. */
final class RowEntryConverter implements ElementConverter<Row, KinesisSinkEntry> {
    private static final long serialVersionUID = 1L;

    @Override
    public KinesisSinkEntry apply(Row row, SinkWriter.Context context) {
        if (row.getArity() != 4) {
            throw new IllegalArgumentException("Kinesis sink: expected a Row of 4 fields (stream, partition_key,"
                    + " explicit_hash_key, data), got " + row.getArity() + " fields");
        }
        return KinesisSinkEntry.of(
                string(row, 0, "stream"),
                string(row, 1, "partition_key"),
                string(row, 2, "explicit_hash_key"),
                bytes(row));
    }

    private static String string(Row row, int position, String name) {
        Object value = Rows.field(row, position, name);
        if (value != null && !(value instanceof String)) {
            throw new IllegalArgumentException("Kinesis sink: field " + name + " must be a String, got "
                    + value.getClass().getName());
        }
        return (String) value;
    }

    private static byte[] bytes(Row row) {
        Object value = Rows.field(row, 3, "data");
        if (value != null && !(value instanceof byte[])) {
            throw new IllegalArgumentException("Kinesis sink: field data must be byte[], got "
                    + value.getClass().getName());
        }
        return (byte[]) value;
    }
}
