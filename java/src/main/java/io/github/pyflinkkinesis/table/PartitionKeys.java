package io.github.pyflinkkinesis.table;

import java.io.Serializable;
import java.util.Locale;
import java.util.UUID;

import org.apache.flink.table.data.RowData;

/**
 * How a sink table picks a row's partition key when its {@code partition-key} metadata column is unset:
 * {@code random}, {@code fixed} (the writing subtask), or the PARTITIONED BY columns joined by a delimiter.
 */
final class PartitionKeys implements Serializable {
    private static final long serialVersionUID = 1L;

    enum Kind { RANDOM, FIXED, FIELDS }

    private final Kind kind;
    private final int[] fields;
    private final RowData.FieldGetter[] getters;
    private final String delimiter;

    private PartitionKeys(Kind kind, int[] fields, RowData.FieldGetter[] getters, String delimiter) {
        this.kind = kind;
        this.fields = fields;
        this.getters = getters;
        this.delimiter = delimiter;
    }

    /**
     * @param partitioner the {@code sink.partitioner} value, or null if unset
     * @param fields positions of the PARTITIONED BY columns (empty if none), with their getters
     */
    static PartitionKeys of(String partitioner, int[] fields, RowData.FieldGetter[] getters, String delimiter) {
        if (fields.length > 0) {
            if (partitioner != null) {
                throw new IllegalArgumentException(KinesisTableOptions.SINK_PARTITIONER.key() + ": a PARTITIONED BY "
                        + "table takes its partition keys from its partition columns; remove '"
                        + KinesisTableOptions.SINK_PARTITIONER.key() + "' = '" + partitioner + "'");
            }
            return new PartitionKeys(Kind.FIELDS, fields, getters, delimiter);
        }
        String value = partitioner == null ? KinesisTableOptions.SINK_PARTITIONER.defaultValue() : partitioner;
        switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "random":
                return new PartitionKeys(Kind.RANDOM, fields, getters, delimiter);
            case "fixed":
                return new PartitionKeys(Kind.FIXED, fields, getters, delimiter);
            default:
                throw new IllegalArgumentException(KinesisTableOptions.SINK_PARTITIONER.key() + ": expected 'random' or "
                        + "'fixed' (or PARTITIONED BY columns), got '" + partitioner + "'");
        }
    }

    /** The partition key of {@code row}, written by subtask {@code subtask}. */
    String keyOf(RowData row, int subtask) {
        switch (kind) {
            case FIXED:
                return Integer.toString(subtask);
            case FIELDS:
                StringBuilder key = new StringBuilder();
                for (int i = 0; i < fields.length; i++) {
                    if (i > 0) {
                        key.append(delimiter);
                    }
                    key.append(getters[i].getFieldOrNull(row));
                }
                return key.toString();
            default:
                return UUID.randomUUID().toString();
        }
    }
}
