package io.github.pyflinkkinesis.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.Test;

class KinesisSourceTest {
    private static final Map<String, String> PROPERTIES = Map.of("aws.region", "us-east-1",
            "aws.endpoint", "http://127.0.0.1:4567", "aws.credentials.provider.basic.accesskeyid", "id",
            "aws.credentials.provider.basic.secretkey", "s3cr3t-value", "source.init.position", "TRIM_HORIZON");

    @Test
    void producesNamedRowsOfTheContractsTypes() {
        KinesisSource source = KinesisSource.create(PROPERTIES, List.of("orders"));
        RowTypeInfo type = (RowTypeInfo) source.getProducedType();
        assertArrayEquals(new String[] {"data", "stream", "shard_id", "partition_key", "sequence_number",
            "sub_sequence_number", "arrival_time"}, type.getFieldNames());
        assertEquals(Types.PRIMITIVE_ARRAY(Types.BYTE), type.getTypeAt(0));
        assertEquals(Types.STRING, type.getTypeAt(4));
        assertEquals(Types.LONG, type.getTypeAt(5));
        assertEquals(Types.LONG, type.getTypeAt(6));
        assertEquals(Boundedness.CONTINUOUS_UNBOUNDED, source.getBoundedness());
    }

    @Test
    void invalidInputIsRejectedNamingTheKey() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> KinesisSource.create(Map.of("source.init.position", "TRIM_HORIZON"), List.of("orders")));
        assertTrue(error.getMessage().contains("aws.region"), error.getMessage());
        error = assertThrows(IllegalArgumentException.class, () -> KinesisSource.create(PROPERTIES, List.of()));
        assertTrue(error.getMessage().startsWith("streams"), error.getMessage());
        error = assertThrows(IllegalArgumentException.class,
                () -> KinesisSource.create(Map.of("aws.region", "us-east-1", "source.init.position", "NOW"), List.of("s")));
        assertTrue(error.getMessage().startsWith("source.init.position"), error.getMessage());
    }

    @Test
    void aStreamNamedTwiceIsReadOnce() {
        KinesisSource source = KinesisSource.create(PROPERTIES,
                List.of("orders", "arn:aws:kinesis:us-east-1:000000000000:stream/orders", "payments"));
        assertTrue(source.toString().contains("streams=[orders, payments]"), source.toString());
    }

    @Test
    void survivesJavaSerialization() throws Exception {
        KinesisSource source = KinesisSource.create(PROPERTIES, List.of("orders"));
        KinesisSource copy = InstantiationUtil.clone(source);
        assertEquals(source.toString(), copy.toString());
        assertEquals(source.getProducedType(), copy.getProducedType());
    }

    @Test
    void secretsStayOutOfItsDescription() {
        assertFalse(KinesisSource.create(PROPERTIES, List.of("orders")).toString().contains("s3cr3t-value"));
    }
}
