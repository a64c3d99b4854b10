package io.github.pyflinkkinesis.sink;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.Map;

/**
 * User records packed into one KPL aggregated record: the magic bytes {@code F3 89 9A C2}, an
 * {@code AggregatedRecord} protobuf (1: partition key table, 2: explicit hash key table, 3: records, each
 * with 1: partition key index, 2: explicit hash key index, 3: data) and the MD5 of the protobuf bytes.
 * Each user record keeps its partition key, explicit hash key and data byte for byte; key tables come first
 * (the layout {@code beam_transforms.aggregation.AggregateBuilder} writes, so both give the same bytes).
 * Not thread safe.
 */
final class KplAggregate {
    static final byte[] MAGIC = {(byte) 0xF3, (byte) 0x89, (byte) 0x9A, (byte) 0xC2};
    private static final int DIGEST_BYTES = 16;

    private final Map<String, Integer> partitionKeys = new HashMap<>();
    private final Map<String, Integer> hashKeys = new HashMap<>();
    private final ByteArrayOutputStream tables = new ByteArrayOutputStream();
    private final ByteArrayOutputStream records = new ByteArrayOutputStream();
    private int count;

    /** User records added. */
    int count() {
        return count;
    }

    /** Bytes of the encoded record: magic, message and digest. */
    int size() {
        return MAGIC.length + tables.size() + records.size() + DIGEST_BYTES;
    }

    /** Bytes of the encoded record if {@code entry} were added. */
    int sizeWith(KinesisSinkEntry entry) {
        int tableBytes = 0;
        if (!partitionKeys.containsKey(entry.partitionKey())) {
            tableBytes += fieldSize(entry.partitionKey().getBytes(StandardCharsets.UTF_8).length);
        }
        int inner = 1 + varintSize(partitionKeys.getOrDefault(entry.partitionKey(), partitionKeys.size()));
        String hashKey = entry.explicitHashKey();
        if (hashKey != null) {
            if (!hashKeys.containsKey(hashKey)) {
                tableBytes += fieldSize(hashKey.length());
            }
            inner += 1 + varintSize(hashKeys.getOrDefault(hashKey, hashKeys.size()));
        }
        inner += fieldSize(entry.data().length);
        return size() + tableBytes + fieldSize(inner);
    }

    /** The encoded size of one user record {@code entry} alone in an aggregate. */
    static int sizeAlone(KinesisSinkEntry entry) {
        return new KplAggregate().sizeWith(entry);
    }

    /** Adds one user record. */
    void add(KinesisSinkEntry entry) {
        ByteArrayOutputStream inner = new ByteArrayOutputStream();
        writeVarint(inner, 1 << 3);
        writeVarint(inner, index(partitionKeys, entry.partitionKey(), 1));
        if (entry.explicitHashKey() != null) {
            writeVarint(inner, 2 << 3);
            writeVarint(inner, index(hashKeys, entry.explicitHashKey(), 2));
        }
        writeField(inner, 3, entry.data());
        writeField(records, 3, inner.toByteArray());
        count++;
    }

    /** The aggregated record's data: magic, {@code AggregatedRecord}, MD5 of it. */
    byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(size());
        out.writeBytes(MAGIC);
        byte[] message = new byte[tables.size() + records.size()];
        System.arraycopy(tables.toByteArray(), 0, message, 0, tables.size());
        System.arraycopy(records.toByteArray(), 0, message, tables.size(), records.size());
        out.writeBytes(message);
        out.writeBytes(md5(message));
        return out.toByteArray();
    }

    /** The key's index in its table, adding it (as field {@code field}) when new. */
    private int index(Map<String, Integer> table, String key, int field) {
        Integer index = table.get(key);
        if (index == null) {
            index = table.size();
            table.put(key, index);
            writeField(tables, field, key.getBytes(StandardCharsets.UTF_8));
        }
        return index;
    }

    private static void writeField(ByteArrayOutputStream out, int field, byte[] payload) {
        writeVarint(out, field << 3 | 2);
        writeVarint(out, payload.length);
        out.writeBytes(payload);
    }

    private static void writeVarint(ByteArrayOutputStream out, long value) {
        while ((value & ~0x7FL) != 0) {
            out.write((int) (value & 0x7F) | 0x80);
            value >>>= 7;
        }
        out.write((int) value);
    }

    /** A length-delimited field of {@code length} bytes (all field numbers here take one tag byte). */
    private static int fieldSize(int length) {
        return 1 + varintSize(length) + length;
    }

    private static int varintSize(long value) {
        int n = 1;
        while ((value & ~0x7FL) != 0) {
            value >>>= 7;
            n++;
        }
        return n;
    }

    static byte[] md5(byte[] data) {
        try {
            return MessageDigest.getInstance("MD5").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is a required JDK algorithm", e);
        }
    }
}
