package io.github.pyflinkkinesis.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.CatalogTable;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ObjectIdentifier;
import org.apache.flink.table.catalog.ResolvedCatalogTable;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.connector.sink.DynamicTableSink;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.util.ExceptionUtils;
import org.junit.jupiter.api.Test;

/** The factory through Flink's own discovery (META-INF/services) and validation, with the json format. */
class KinesisDynamicTableFactoryTest {
    private static final ObjectIdentifier ID = ObjectIdentifier.of("cat", "db", "readings");

    private static Map<String, String> options(String... extra) {
        Map<String, String> out = new HashMap<>(Map.of(
                "connector", "pyflink-kinesis", "stream", "readings", "format", "json",
                "aws.region", "us-east-1", "aws.endpoint", "http://127.0.0.1:4567",
                "aws.credentials.provider", "BASIC", "aws.credentials.basic.accesskeyid", "AKID",
                "aws.credentials.basic.secretkey", "s3cr3t"));
        for (int i = 0; i < extra.length; i += 2) {
            out.put(extra[i], extra[i + 1]);
        }
        return out;
    }

    private static ResolvedCatalogTable table(Map<String, String> options, List<String> partitionKeys,
                                              Column... extraColumns) {
        List<Column> columns = new java.util.ArrayList<>(List.of(
                Column.physical("sensor", DataTypes.INT()), Column.physical("celsius", DataTypes.DOUBLE())));
        columns.addAll(List.of(extraColumns));
        ResolvedSchema schema = ResolvedSchema.of(columns);
        CatalogTable table = CatalogTable.newBuilder()
                .schema(Schema.newBuilder().fromResolvedSchema(schema).build())
                .options(options).partitionKeys(partitionKeys).build();
        return new ResolvedCatalogTable(table, schema);
    }

    private static DynamicTableSource source(ResolvedCatalogTable table) {
        return FactoryUtil.createDynamicTableSource(null, ID, table, Map.of(), new Configuration(),
                KinesisDynamicTableFactoryTest.class.getClassLoader(), true);
    }

    private static DynamicTableSink sink(ResolvedCatalogTable table) {
        return FactoryUtil.createDynamicTableSink(null, ID, table, Map.of(), new Configuration(),
                KinesisDynamicTableFactoryTest.class.getClassLoader(), true);
    }

    /** The message of our ValidationException inside Flink's wrapper. */
    private static String error(Runnable create) {
        Exception e = assertThrows(ValidationException.class, create::run);
        Throwable ours = ExceptionUtils.findThrowableWithMessage(e, "Table '" + ID.asSummaryString() + "'")
                .orElseThrow(() -> new AssertionError("no error naming the table", e));
        assertFalse(ours.getMessage().contains("\n"), ours.getMessage());
        return ours.getMessage();
    }

    @Test
    void discoversTheFactoryAndReadsMetadata() {
        DynamicTableSource source = source(table(options(), List.of(),
                Column.metadata("arrived", DataTypes.TIMESTAMP_LTZ(3), "timestamp", true)));
        KinesisDynamicSource kinesis = assertInstanceOf(KinesisDynamicSource.class, source);
        assertEquals(List.of("timestamp", "shard-id", "sequence-number", "partition-key", "stream",
                "sub-sequence-number"), List.copyOf(kinesis.listReadableMetadata().keySet()));
        assertEquals("Kinesis(readings)", kinesis.asSummaryString());
    }

    @Test
    void unknownOptionIsOneLineNamingIt() {
        String message = error(() -> source(table(options("source.init.positon", "LATEST"), List.of())));
        assertTrue(message.contains("source.init.positon"), message);
    }

    @Test
    void formatOptionsPassAndMissingFormatIsNamed() {
        source(table(options("json.ignore-parse-errors", "true"), List.of()));
        Map<String, String> noFormat = options();
        noFormat.remove("format");
        String message = error(() -> source(table(noFormat, List.of())));
        assertTrue(message.contains("'format' is required"), message);
    }

    @Test
    void badValuesNameTheirKeyAndHideSecrets() {
        String message = error(() -> sink(table(options("sink.batch.max-size", "0"), List.of())));
        assertTrue(message.contains("sink.batch.max-size"), message);
        message = error(() -> source(table(options("source.init.position", "NOW"), List.of())));
        assertTrue(message.contains("source.init.position") && !message.contains("s3cr3t"), message);
    }

    @Test
    void streamIsRequiredUnlessRowsNameTheirs() {
        Map<String, String> noStream = options();
        noStream.remove("stream");
        assertTrue(error(() -> source(table(noStream, List.of()))).contains("stream.arn"));
        assertTrue(error(() -> sink(table(noStream, List.of()))).contains("METADATA FROM 'stream'"));
        DynamicTableSink sink = sink(table(noStream, List.of(),
                Column.metadata("target", DataTypes.STRING(), "stream", false)));
        assertEquals("Kinesis(stream per row)", sink.asSummaryString());
        assertTrue(error(() -> source(table(options("stream.arn", "arn:aws:kinesis:us-east-1:1:stream/s"),
                List.of()))).contains("not both"));
    }

    @Test
    void partitionColumnsAndPartitionerExcludeEachOther() {
        assertInstanceOf(KinesisDynamicSink.class, sink(table(options(), List.of("sensor"))));
        String message = error(() -> sink(table(options("sink.partitioner", "random"), List.of("sensor"))));
        assertTrue(message.contains("sink.partitioner"), message);
        message = error(() -> sink(table(options("sink.partitioner", "round-robin"), List.of())));
        assertTrue(message.contains("round-robin"), message);
    }

    @Test
    void theProducerKeysAreTableOptionsPassedToTheSink() {
        Map<String, String> given = options("sink.record-ttl", "2 s", "sink.rate-limit", "100",
                "sink.max-record-size", "10 mb");
        assertInstanceOf(KinesisDynamicSink.class, sink(table(given, List.of())));
        Map<String, String> properties = KinesisTableOptions.connectorProperties(given, KinesisTableOptions.SINK);
        assertEquals("2 s", properties.get("sink.record-ttl"));
        assertEquals("100", properties.get("sink.rate-limit"));
        assertEquals("10 mb", properties.get("sink.max-record-size"));
        String message = error(() -> sink(table(options("sink.max-record-size", "11 mb"), List.of())));
        assertTrue(message.contains("sink.max-record-size"), message);
    }

    @Test
    void sqlCredentialKeysRegainProvider() {
        Map<String, String> properties = KinesisTableOptions.connectorProperties(
                options("aws.credentials.role.provider.basic.secretkey", "x", "sink.partitioner", "fixed"),
                KinesisTableOptions.SINK);
        assertEquals("AKID", properties.get("aws.credentials.provider.basic.accesskeyid"));
        assertEquals("x", properties.get("aws.credentials.provider.role.provider.basic.secretkey"));
        assertEquals("BASIC", properties.get("aws.credentials.provider"));
        assertFalse(properties.containsKey("sink.partitioner") || properties.containsKey("stream"));
    }
}
