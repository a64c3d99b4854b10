package io.github.pyflinkkinesis.table;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamSource;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.ProviderContext;
import org.apache.flink.table.connector.format.DecodingFormat;
import org.apache.flink.table.connector.source.DataStreamScanProvider;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.connector.source.ScanTableSource;
import org.apache.flink.table.connector.source.abilities.SupportsReadingMetadata;
import org.apache.flink.table.connector.source.abilities.SupportsWatermarkPushDown;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.DataType;

import io.github.pyflinkkinesis.source.KinesisSource;

/**
 * A {@code 'pyflink-kinesis'} table read by {@link KinesisSource}: the format decodes each (de-aggregated)
 * record's data, metadata columns follow. A watermark declared in the DDL is pushed into the source, so it is
 * kept per shard, and an idle shard stops holding it back after {@code table.exec.source.idle-timeout}.
 */
final class KinesisDynamicSource implements ScanTableSource, SupportsReadingMetadata, SupportsWatermarkPushDown {
    private final String tableName;
    private final String stream;
    private final Map<String, String> properties;
    private final DecodingFormat<DeserializationSchema<RowData>> format;
    private final DataType physicalType;
    private List<ReadableMetadata> metadata = List.of();
    private DataType producedType;
    private WatermarkStrategy<RowData> watermarks = WatermarkStrategy.noWatermarks();

    /**
     * @param properties the {@code aws.*} and {@code source.*} keys, in the connector's names
     */
    KinesisDynamicSource(String tableName, String stream, Map<String, String> properties,
                         DecodingFormat<DeserializationSchema<RowData>> format, DataType physicalType) {
        this.tableName = tableName;
        this.stream = stream;
        this.properties = properties;
        this.format = format;
        this.physicalType = physicalType;
        this.producedType = physicalType;
    }

    @Override
    public ChangelogMode getChangelogMode() {
        return format.getChangelogMode();
    }

    @Override
    public ScanRuntimeProvider getScanRuntimeProvider(ScanContext context) {
        DeserializationSchema<RowData> decoder = format.createRuntimeDecoder(context, physicalType);
        TypeInformation<RowData> type = context.createTypeInformation(producedType);
        KinesisSource<RowData> source = KinesisSource.create(properties, List.of(stream),
                new RowDataDeserializer(decoder, metadata, type));
        WatermarkStrategy<RowData> strategy = watermarks;
        String name = "Kinesis " + tableName;
        return new DataStreamScanProvider() {
            @Override
            public DataStream<RowData> produceDataStream(ProviderContext provider, StreamExecutionEnvironment env) {
                DataStreamSource<RowData> stream = env.fromSource(source, strategy, name, type);
                provider.generateUid("kinesis-source").ifPresent(stream::uid);
                return stream;
            }

            @Override
            public boolean isBounded() {
                return false;
            }
        };
    }

    @Override
    public Map<String, DataType> listReadableMetadata() {
        return ReadableMetadata.all();
    }

    @Override
    public void applyReadableMetadata(List<String> metadataKeys, DataType producedDataType) {
        List<ReadableMetadata> columns = new ArrayList<>();
        metadataKeys.forEach(key -> columns.add(ReadableMetadata.of(key)));
        this.metadata = List.copyOf(columns);
        this.producedType = producedDataType;
    }

    @Override
    public void applyWatermark(WatermarkStrategy<RowData> watermarkStrategy) {
        this.watermarks = Objects.requireNonNull(watermarkStrategy);
    }

    @Override
    public DynamicTableSource copy() {
        KinesisDynamicSource copy = new KinesisDynamicSource(tableName, stream, properties, format, physicalType);
        copy.metadata = metadata;
        copy.producedType = producedType;
        copy.watermarks = watermarks;
        return copy;
    }

    @Override
    public String asSummaryString() {
        return "Kinesis(" + stream + ")";
    }
}
