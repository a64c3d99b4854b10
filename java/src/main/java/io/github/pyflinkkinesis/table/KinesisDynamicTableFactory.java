package io.github.pyflinkkinesis.table;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.FallbackKey;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedCatalogTable;
import org.apache.flink.table.connector.format.DecodingFormat;
import org.apache.flink.table.connector.format.EncodingFormat;
import org.apache.flink.table.connector.sink.DynamicTableSink;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.factories.DeserializationFormatFactory;
import org.apache.flink.table.factories.DynamicTableFactory;
import org.apache.flink.table.factories.DynamicTableSinkFactory;
import org.apache.flink.table.factories.DynamicTableSourceFactory;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.factories.SerializationFormatFactory;
import org.apache.flink.table.types.DataType;

import io.github.pyflinkkinesis.aws.AwsClientConfig;
import io.github.pyflinkkinesis.sink.KinesisSinkConfig;
import io.github.pyflinkkinesis.source.KinesisSourceConfig;

/**
 * The {@code 'connector' = 'pyflink-kinesis'} table: a Kinesis stream read by our FLIP-27 source and written
 * by our async sink, with any Flink format. A name distinct from the official {@code 'kinesis'}, so a classpath
 * holding both jars finds exactly one factory for each.
 *
 * <p>Errors are one-line {@link ValidationException}s naming the table and the option.
 */
public final class KinesisDynamicTableFactory implements DynamicTableSourceFactory, DynamicTableSinkFactory {
    public static final String IDENTIFIER = "pyflink-kinesis";

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Set.of(FactoryUtil.FORMAT);
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return KinesisTableOptions.allOptions();
    }

    @Override
    public DynamicTableSource createDynamicTableSource(DynamicTableFactory.Context context) {
        FactoryUtil.TableFactoryHelper helper = checkedHelper(context);
        String table = context.getObjectIdentifier().asSummaryString();
        Map<String, String> options = context.getCatalogTable().getOptions();
        Map<String, String> properties = properties(table, options, KinesisTableOptions.SOURCE, KinesisSourceConfig::of);
        DecodingFormat<DeserializationSchema<RowData>> format =
                helper.discoverDecodingFormat(DeserializationFormatFactory.class, FactoryUtil.FORMAT);
        helper.validateExcept(KinesisTableOptions.ROLE_PROVIDER_PREFIX);
        String stream = stream(table, options);
        if (stream == null) {
            throw new ValidationException("Table '" + table + "': set '" + KinesisTableOptions.STREAM_ARN.key()
                    + "' or '" + KinesisTableOptions.STREAM.key() + "' to the stream to read");
        }
        return new KinesisDynamicSource(table, stream, properties, format, context.getPhysicalRowDataType());
    }

    @Override
    public DynamicTableSink createDynamicTableSink(DynamicTableFactory.Context context) {
        FactoryUtil.TableFactoryHelper helper = checkedHelper(context);
        String table = context.getObjectIdentifier().asSummaryString();
        ResolvedCatalogTable catalogTable = context.getCatalogTable();
        Map<String, String> options = catalogTable.getOptions();
        Map<String, String> properties = properties(table, options, KinesisTableOptions.SINK, KinesisSinkConfig::of);
        EncodingFormat<SerializationSchema<RowData>> format =
                helper.discoverEncodingFormat(SerializationFormatFactory.class, FactoryUtil.FORMAT);
        helper.validateExcept(KinesisTableOptions.ROLE_PROVIDER_PREFIX);
        String stream = stream(table, options);
        if (stream == null && !writesStreamColumn(catalogTable)) {
            throw new ValidationException("Table '" + table + "': set '" + KinesisTableOptions.STREAM_ARN.key()
                    + "' or '" + KinesisTableOptions.STREAM.key() + "', or declare a column METADATA FROM 'stream'");
        }
        DataType physical = context.getPhysicalRowDataType();
        PartitionKeys keys = check(table, () -> partitionKeys(catalogTable, physical, options));
        return new KinesisDynamicSink(stream, properties, format, physical, keys);
    }

    /** Unknown options and a missing format fail first, in one line each; then Flink's own checks run. */
    private FactoryUtil.TableFactoryHelper checkedHelper(DynamicTableFactory.Context context) {
        String table = context.getObjectIdentifier().asSummaryString();
        Map<String, String> options = context.getCatalogTable().getOptions();
        String format = options.get(FactoryUtil.FORMAT.key());
        if (format == null || format.isBlank()) {
            throw new ValidationException("Table '" + table + "': option '" + FactoryUtil.FORMAT.key()
                    + "' is required (e.g. 'json', 'csv' or 'raw')");
        }
        Set<String> known = new TreeSet<>(List.of(FactoryUtil.CONNECTOR.key(), FactoryUtil.FORMAT.key()));
        for (ConfigOption<?> option : optionalOptions()) {
            known.add(option.key());
            for (FallbackKey fallback : option.fallbackKeys()) {
                known.add(fallback.getKey());
            }
        }
        List<String> unknown = new ArrayList<>();
        for (String key : options.keySet()) {
            if (!known.contains(key) && !key.startsWith(format + ".")
                    && !key.startsWith(KinesisTableOptions.ROLE_PROVIDER_PREFIX)) {
                unknown.add(key);
            }
        }
        if (!unknown.isEmpty()) {
            throw new ValidationException("Table '" + table + "': unsupported option" + (unknown.size() > 1 ? "s " : " ")
                    + String.join(", ", unknown) + " for connector '" + IDENTIFIER + "'; supported: "
                    + String.join(", ", known) + " and the '" + format + ".*' format options");
        }
        return FactoryUtil.createTableFactoryHelper(this, context);
    }

    /**
     * The table's {@code aws.*} keys and those of {@code own} in the connector's names, validated by
     * {@link AwsClientConfig} and {@code config} (the source's or the sink's config class).
     */
    private static Map<String, String> properties(String table, Map<String, String> options,
                                                  List<ConfigOption<?>> own, Consumer<Map<String, String>> config) {
        Map<String, String> properties = KinesisTableOptions.connectorProperties(options, own);
        check(table, () -> {
            config.accept(properties);
            AwsClientConfig.of(properties);
        });
        return properties;
    }

    private static String stream(String table, Map<String, String> options) {
        String arn = options.get(KinesisTableOptions.STREAM_ARN.key());
        String name = options.get(KinesisTableOptions.STREAM.key());
        if (arn != null && name != null) {
            throw new ValidationException("Table '" + table + "': set either '" + KinesisTableOptions.STREAM_ARN.key()
                    + "' or '" + KinesisTableOptions.STREAM.key() + "', not both");
        }
        return arn != null ? arn : name;
    }

    private static boolean writesStreamColumn(ResolvedCatalogTable table) {
        for (Column column : table.getResolvedSchema().getColumns()) {
            if (column instanceof Column.MetadataColumn) {
                Column.MetadataColumn metadata = (Column.MetadataColumn) column;
                if (!metadata.isVirtual()
                        && WritableMetadata.STREAM.key.equals(metadata.getMetadataKey().orElse(metadata.getName()))) {
                    return true;
                }
            }
        }
        return false;
    }

    private static PartitionKeys partitionKeys(ResolvedCatalogTable table, DataType physical,
                                               Map<String, String> options) {
        List<String> names = DataType.getFieldNames(physical);
        List<DataType> types = DataType.getFieldDataTypes(physical);
        List<String> partitionColumns = table.getPartitionKeys();
        int[] fields = new int[partitionColumns.size()];
        RowData.FieldGetter[] getters = new RowData.FieldGetter[fields.length];
        for (int i = 0; i < fields.length; i++) {
            fields[i] = names.indexOf(partitionColumns.get(i));
            getters[i] = RowData.createFieldGetter(types.get(fields[i]).getLogicalType(), fields[i]);
        }
        String delimiter = options.getOrDefault(KinesisTableOptions.SINK_PARTITIONER_FIELD_DELIMITER.key(),
                KinesisTableOptions.SINK_PARTITIONER_FIELD_DELIMITER.defaultValue());
        return PartitionKeys.of(options.get(KinesisTableOptions.SINK_PARTITIONER.key()), fields, getters, delimiter);
    }

    /** Our config classes' IllegalArgumentException, naming the key, becomes a ValidationException naming the table. */
    private static <T> T check(String table, Supplier<T> validation) {
        try {
            return validation.get();
        } catch (IllegalArgumentException e) {
            throw new ValidationException("Table '" + table + "': " + e.getMessage());
        }
    }

    private static void check(String table, Runnable validation) {
        check(table, () -> {
            validation.run();
            return null;
        });
    }
}
