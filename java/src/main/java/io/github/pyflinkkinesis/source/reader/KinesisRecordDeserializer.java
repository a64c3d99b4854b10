package io.github.pyflinkkinesis.source.reader;

import java.io.IOException;
import java.io.Serializable;

import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.util.Collector;

/**
 * What the source makes of a fetched record: zero or more values of its output type (a named Row for the
 * DataStream API, RowData through a table format for SQL). Serializable: it travels with the source.
 */
public interface KinesisRecordDeserializer<T> extends Serializable, ResultTypeQueryable<T> {

    /** Called once in each reader before its first record. */
    default void open(DeserializationSchema.InitializationContext context) throws Exception {
    }

    /**
     * Emits the values of {@code record} to {@code out}.
     *
     * @param stream the name of the record's stream
     * @param shardId the id of the record's shard
     */
    void deserialize(KinesisRecord record, String stream, String shardId, Collector<T> out) throws IOException;
}
