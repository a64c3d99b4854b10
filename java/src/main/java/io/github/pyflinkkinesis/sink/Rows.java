package io.github.pyflinkkinesis.sink;

import org.apache.flink.types.Row;

/** Field access that works for Rows built by position, by name, or both (as Flink's serializers make them). */
final class Rows {
    private Rows() {}

    static Object field(Row row, int position, String name) {
        return row.getFieldNames(false) != null ? row.getField(name) : row.getField(position);
    }
}
