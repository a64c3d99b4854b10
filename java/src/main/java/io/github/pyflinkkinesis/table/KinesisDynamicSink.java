package io.github.pyflinkkinesis.table;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamSink;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.ProviderContext;
import org.apache.flink.table.connector.format.EncodingFormat;
import org.apache.flink.table.connector.sink.DataStreamSinkProvider;
import org.apache.flink.table.connector.sink.DynamicTableSink;
import org.apache.flink.table.connector.sink.abilities.SupportsPartitioning;
import org.apache.flink.table.connector.sink.abilities.SupportsWritingMetadata;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.types.Row;

import io.github.pyflinkkinesis.sink.KinesisSink;

/**
 * A {@code 'pyflink-kinesis'} table written by {@link KinesisSink}. Insert-only: Kinesis records cannot be
 * updated or deleted, so the planner rejects a query that produces updates, naming this table.
 */
final class KinesisDynamicSink implements DynamicTableSink, SupportsWritingMetadata, SupportsPartitioning {
    private final String stream;
    private final Map<String, String> properties;
    private final EncodingFormat<SerializationSchema<RowData>> format;
    private final DataType physicalType;
    private final PartitionKeys partitionKeys;
    private List<WritableMetadata> metadata = List.of();

    /**
     * @param stream the table's stream, or null if rows name theirs in a {@code stream} metadata column
     * @param properties the {@code aws.*} and {@code sink.*} keys, in the connector's names
     */
    KinesisDynamicSink(String stream, Map<String, String> properties,
                       EncodingFormat<SerializationSchema<RowData>> format, DataType physicalType,
                       PartitionKeys partitionKeys) {
        this.stream = stream;
        this.properties = properties;
        this.format = format;
        this.physicalType = physicalType;
        this.partitionKeys = partitionKeys;
    }

    @Override
    public ChangelogMode getChangelogMode(ChangelogMode requestedMode) {
        return ChangelogMode.insertOnly();
    }

    @Override
    public SinkRuntimeProvider getSinkRuntimeProvider(Context context) {
        SerializationSchema<RowData> encoder = format.createRuntimeEncoder(context, physicalType);
        RowDataToSinkRow toRow = new RowDataToSinkRow(encoder, getters(physicalType), metadata, stream, partitionKeys);
        KinesisSink sink = KinesisSink.create(properties);
        return new DataStreamSinkProvider() {
            @Override
            public DataStreamSink<?> consumeDataStream(ProviderContext provider, DataStream<RowData> rows) {
                SingleOutputStreamOperator<Row> records = rows.map(toRow).setParallelism(rows.getParallelism());
                provider.generateUid("kinesis-sink-records").ifPresent(records::uid);
                DataStreamSink<Row> out = records.sinkTo(sink).setParallelism(rows.getParallelism());
                provider.generateUid("kinesis-sink").ifPresent(out::uid);
                return out;
            }
        };
    }

    static RowData.FieldGetter[] getters(DataType rowType) {
        List<LogicalType> types = rowType.getLogicalType().getChildren();
        RowData.FieldGetter[] out = new RowData.FieldGetter[types.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = RowData.createFieldGetter(types.get(i), i);
        }
        return out;
    }

    @Override
    public Map<String, DataType> listWritableMetadata() {
        return WritableMetadata.all();
    }

    @Override
    public void applyWritableMetadata(List<String> metadataKeys, DataType consumedDataType) {
        List<WritableMetadata> columns = new ArrayList<>();
        metadataKeys.forEach(key -> columns.add(WritableMetadata.of(key)));
        this.metadata = List.copyOf(columns);
    }

    /** A static partition's values are in every row already: the partition key is made from them as usual. */
    @Override
    public void applyStaticPartition(Map<String, String> partition) {
    }

    @Override
    public DynamicTableSink copy() {
        KinesisDynamicSink copy = new KinesisDynamicSink(stream, properties, format, physicalType, partitionKeys);
        copy.metadata = metadata;
        return copy;
    }

    @Override
    public String asSummaryString() {
        return "Kinesis(" + (stream == null ? "stream per row" : stream) + ")";
    }
}
