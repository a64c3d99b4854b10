package io.github.pyflinkkinesis.deagg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.github.pyflinkkinesis.source.Hex;

class KplDeaggregatorTest {
    /**
     * Written by the aws-kinesis-agg Python package (RecordAggregator): user records
     * ("alpha", b"first", explicit hash key "123456789"), ("beta", 00 ff 80 0a), ("alpha", "dritte ü").
     */
    private static final String AWS_KINESIS_AGG_VECTOR = "f3899ac20a05616c7068610a046265746112093132333435363738391a"
            + "0b080010001a0566697273741a0808011a0400ff800a1a0d08001a0964726974746520c3bcc72d25d95ccda728f4272ca72c97400a";

    /** A minimal protobuf writer, to build aggregates field by field. */
    private static final class Proto {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(long value) {
            while ((value & ~0x7FL) != 0) {
                out.write((int) ((value & 0x7F) | 0x80));
                value >>>= 7;
            }
            out.write((int) value);
            return this;
        }

        Proto tag(int field, int wireType) {
            return varint((long) field << 3 | wireType);
        }

        Proto bytes(int field, byte[] value) {
            tag(field, 2).varint(value.length);
            out.write(value, 0, value.length);
            return this;
        }

        Proto string(int field, String value) {
            return bytes(field, value.getBytes(StandardCharsets.UTF_8));
        }

        Proto uint(int field, long value) {
            return tag(field, 0).varint(value);
        }

        Proto fixed(int field, int wireType, int length) {
            tag(field, wireType);
            out.write(new byte[length], 0, length);
            return this;
        }

        byte[] build() {
            return out.toByteArray();
        }
    }

    private static byte[] aggregate(byte[] protobuf) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(KplDeaggregator.MAGIC);
        out.write(protobuf);
        out.write(MessageDigest.getInstance("MD5").digest(protobuf));
        return out.toByteArray();
    }

    private static byte[] record(long keyIndex, byte[] data) {
        return new Proto().uint(1, keyIndex).bytes(3, data).build();
    }

    @Test
    void vectorWrittenByAwsKinesisAggIsSplitIntoItsUserRecords() {
        List<UserRecord> records = KplDeaggregator.deaggregate(Hex.parse(AWS_KINESIS_AGG_VECTOR));
        assertEquals(3, records.size());
        assertEquals("alpha", records.get(0).partitionKey());
        assertArrayEquals("first".getBytes(StandardCharsets.UTF_8), records.get(0).data());
        assertEquals("beta", records.get(1).partitionKey());
        assertArrayEquals(new byte[] {0, (byte) 0xFF, (byte) 0x80, 0x0A}, records.get(1).data());
        assertEquals("alpha", records.get(2).partitionKey());
        assertArrayEquals("dritte ü".getBytes(StandardCharsets.UTF_8), records.get(2).data());
        for (int i = 0; i < 3; i++) {
            assertEquals(i, records.get(i).subSequenceNumber());
        }
    }

    @Test
    void handEncodedAggregateWithHashKeysTagsAndUnknownFields() throws Exception {
        byte[] tag = new Proto().string(1, "k").string(2, "v").build();
        byte[] withExtras = new Proto().uint(1, 1).uint(2, 0).bytes(3, new byte[] {1, 2, 3}).bytes(4, tag)
                .fixed(9, 5, 4).build();
        byte[] protobuf = new Proto()
                .string(1, "first-key").string(1, "second-key")
                .string(2, "340282366920938463463374607431768211455")
                .bytes(3, record(0, new byte[0]))
                .bytes(3, withExtras)
                .fixed(15, 1, 8).build();
        List<UserRecord> records = KplDeaggregator.deaggregate(aggregate(protobuf));
        assertEquals(2, records.size());
        assertEquals("first-key", records.get(0).partitionKey());
        assertArrayEquals(new byte[0], records.get(0).data());
        assertEquals("second-key", records.get(1).partitionKey());
        assertArrayEquals(new byte[] {1, 2, 3}, records.get(1).data());
        assertEquals(1, records.get(1).subSequenceNumber());
    }

    @Test
    void aggregateWithoutRecordsHasNoUserRecords() throws Exception {
        assertEquals(List.of(), KplDeaggregator.deaggregate(aggregate(new Proto().string(1, "k").build())));
    }

    @Test
    void wrongDigestMeansAPlainRecord() throws Exception {
        byte[] data = aggregate(new Proto().string(1, "k").bytes(3, record(0, new byte[] {9})).build());
        data[data.length - 1] ^= 1;
        assertNull(KplDeaggregator.deaggregate(data));
    }

    @Test
    void noMagicBytesMeansAPlainRecord() {
        byte[] data = Hex.parse(AWS_KINESIS_AGG_VECTOR);
        data[0] = 0;
        assertNull(KplDeaggregator.deaggregate(data));
        assertNull(KplDeaggregator.deaggregate(new byte[] {(byte) 0xF3, (byte) 0x89, (byte) 0x9A}));
        assertNull(KplDeaggregator.deaggregate(Arrays.copyOf(KplDeaggregator.MAGIC, 19)));
    }

    @Test
    void malformedProtobufWithRightDigestMeansAPlainRecord() throws Exception {
        // a partition key index past the table
        assertNull(KplDeaggregator.deaggregate(aggregate(new Proto().string(1, "k").bytes(3, record(1, new byte[] {1})).build())));
        // a record without data
        assertNull(KplDeaggregator.deaggregate(aggregate(new Proto().string(1, "k").bytes(3, new Proto().uint(1, 0).build()).build())));
        // a length running past the end
        assertNull(KplDeaggregator.deaggregate(aggregate(new Proto().tag(1, 2).varint(50).build())));
        // a group wire type
        assertNull(KplDeaggregator.deaggregate(aggregate(new Proto().tag(4, 3).build())));
    }
}
