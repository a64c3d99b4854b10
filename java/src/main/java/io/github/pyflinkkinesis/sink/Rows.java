package io.github.pyflinkkinesis.sink;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.types.Row;

/**
 * The sink's input Row layout ({@link #ROW_TYPE}: names, order and types; Python declares the same as SINK_FIELDS
 * and sink_row_type()), and field access that works for Rows built by position, by name, or both.
 */
public final class Rows {
    /** The sink row's field names, in order. */
    public static final String[] FIELD_NAMES = {"stream", "partition_key", "explicit_hash_key", "data"};

    /** The sink row's type: named fields, as in {@link #FIELD_NAMES}. */
    public static final RowTypeInfo ROW_TYPE = new RowTypeInfo(new TypeInformation<?>[] {
        Types.STRING, Types.STRING, Types.STRING, Types.PRIMITIVE_ARRAY(Types.BYTE)
    }, FIELD_NAMES);

    private Rows() {}

    static Object field(Row row, int position, String name) {
        return row.getFieldNames(false) != null ? row.getField(name) : row.getField(position);
    }

    /** The sink row's field {@code name} at its declared position, checked against its declared type. */
    static Object sinkField(Row row, String name) {
        int position = ROW_TYPE.getFieldIndex(name);
        if (position < 0) {
            throw new IllegalStateException("Kinesis sink: no field " + name + " in " + ROW_TYPE);
        }
        Object value = field(row, position, name);
        Class<?> expected = ROW_TYPE.getTypeAt(position).getTypeClass();
        if (value != null && !expected.isInstance(value)) {
            throw new IllegalArgumentException("Kinesis sink: field " + name + " must be " + expected.getSimpleName()
                    + ", got " + value.getClass().getName());
        }
        return value;
    }
}
