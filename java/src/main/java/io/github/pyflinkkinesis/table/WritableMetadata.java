package io.github.pyflinkkinesis.table;

import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.types.DataType;

/** The metadata columns a {@code 'pyflink-kinesis'} sink table writes; a null value means "not set". */
enum WritableMetadata {
    /** The record's partition key, instead of the table's partitioner. */
    PARTITION_KEY("partition-key"),
    /** A decimal hash key that picks the shard, instead of the partition key's hash. */
    EXPLICIT_HASH_KEY("explicit-hash-key"),
    /** The stream the row goes to, instead of the table's stream. */
    STREAM("stream");

    final String key;

    WritableMetadata(String key) {
        this.key = key;
    }

    static Map<String, DataType> all() {
        Map<String, DataType> out = new LinkedHashMap<>();
        for (WritableMetadata m : values()) {
            out.put(m.key, DataTypes.STRING().nullable());
        }
        return out;
    }

    static WritableMetadata of(String key) {
        for (WritableMetadata m : values()) {
            if (m.key.equals(key)) {
                return m;
            }
        }
        throw new IllegalArgumentException("not a writable metadata key of 'pyflink-kinesis': " + key);
    }
}
