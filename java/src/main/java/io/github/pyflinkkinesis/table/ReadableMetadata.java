package io.github.pyflinkkinesis.table;

import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.types.DataType;

import io.github.pyflinkkinesis.source.reader.KinesisRecord;

/** The metadata columns a {@code 'pyflink-kinesis'} source table can read ({@code METADATA FROM 'key'}). */
enum ReadableMetadata {
    /** The record's approximate arrival time in Kinesis (also the source's event time). */
    TIMESTAMP("timestamp", DataTypes.TIMESTAMP_LTZ(3).notNull(),
            (record, stream, shardId) -> TimestampData.fromEpochMillis(record.arrivalTimeMillis())),
    SHARD_ID("shard-id", DataTypes.STRING().notNull(), (record, stream, shardId) -> StringData.fromString(shardId)),
    SEQUENCE_NUMBER("sequence-number", DataTypes.STRING().notNull(),
            (record, stream, shardId) -> StringData.fromString(record.sequenceNumber())),
    PARTITION_KEY("partition-key", DataTypes.STRING().notNull(),
            (record, stream, shardId) -> StringData.fromString(record.partitionKey())),
    STREAM("stream", DataTypes.STRING().notNull(), (record, stream, shardId) -> StringData.fromString(stream)),
    /** The user record's index inside a KPL aggregate; null for a plain record. */
    SUB_SEQUENCE_NUMBER("sub-sequence-number", DataTypes.BIGINT().nullable(),
            (record, stream, shardId) -> record.subSequenceNumber());

    /** A column's value in Flink's internal data structures. */
    interface Reader {
        Object read(KinesisRecord record, String stream, String shardId);
    }

    final String key;
    final DataType type;
    private final Reader reader;

    ReadableMetadata(String key, DataType type, Reader reader) {
        this.key = key;
        this.type = type;
        this.reader = reader;
    }

    /** The column's value in Flink's internal data structures. */
    Object read(KinesisRecord record, String stream, String shardId) {
        return reader.read(record, stream, shardId);
    }

    static Map<String, DataType> all() {
        Map<String, DataType> out = new LinkedHashMap<>();
        for (ReadableMetadata m : values()) {
            out.put(m.key, m.type);
        }
        return out;
    }

    static ReadableMetadata of(String key) {
        for (ReadableMetadata m : values()) {
            if (m.key.equals(key)) {
                return m;
            }
        }
        throw new IllegalArgumentException("not a readable metadata key of 'pyflink-kinesis': " + key);
    }
}
