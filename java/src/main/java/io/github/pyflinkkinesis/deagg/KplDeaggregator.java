package io.github.pyflinkkinesis.deagg;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Splits a KPL aggregated record into its user records.
 *
 * <p>Format: the magic bytes {@code F3 89 9A C2}, a protobuf {@code AggregatedRecord}
 * (1: partition key table, 2: explicit hash key table, 3: records, each with 1: partition key index,
 * 2: explicit hash key index, 3: data, 4: tags) and the MD5 of that protobuf. Tags are skipped.
 */
public final class KplDeaggregator {
    static final byte[] MAGIC = {(byte) 0xF3, (byte) 0x89, (byte) 0x9A, (byte) 0xC2};
    private static final int DIGEST_LENGTH = 16;

    private KplDeaggregator() {
    }

    /** True when {@code data} starts with the KPL magic bytes. */
    public static boolean hasMagic(byte[] data) {
        if (data.length < MAGIC.length) {
            return false;
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (data[i] != MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * The user records of the aggregate {@code data}, in order; {@code null} when {@code data} is not
     * a well-formed aggregate (no magic bytes, wrong MD5, bad protobuf), which is then a plain record,
     * as the KCL treats it.
     */
    public static List<UserRecord> deaggregate(byte[] data) {
        if (data.length < MAGIC.length + DIGEST_LENGTH || !hasMagic(data)) {
            return null;
        }
        int end = data.length - DIGEST_LENGTH;
        byte[] digest = md5(data, MAGIC.length, end - MAGIC.length);
        if (!Arrays.equals(digest, 0, DIGEST_LENGTH, data, end, data.length)) {
            return null;
        }
        try {
            return parse(new ProtobufReader(data, MAGIC.length, end));
        } catch (ProtobufReader.MalformedException e) {
            return null;
        }
    }

    private static List<UserRecord> parse(ProtobufReader aggregate) throws ProtobufReader.MalformedException {
        List<String> partitionKeys = new ArrayList<>();
        List<String> hashKeys = new ArrayList<>();
        List<Long> keyIndexes = new ArrayList<>();
        List<Long> hashKeyIndexes = new ArrayList<>();
        List<byte[]> datas = new ArrayList<>();
        while (aggregate.hasMore()) {
            int tag = aggregate.readTag();
            int field = tag >>> 3;
            int wireType = tag & 7;
            if (field == 1 && wireType == ProtobufReader.LENGTH_DELIMITED) {
                partitionKeys.add(aggregate.readString());
            } else if (field == 2 && wireType == ProtobufReader.LENGTH_DELIMITED) {
                hashKeys.add(aggregate.readString());
            } else if (field == 3 && wireType == ProtobufReader.LENGTH_DELIMITED) {
                ProtobufReader record = aggregate.readMessage();
                long keyIndex = -1;
                long hashKeyIndex = -1;
                byte[] recordData = null;
                while (record.hasMore()) {
                    int recordTag = record.readTag();
                    int recordField = recordTag >>> 3;
                    int recordWireType = recordTag & 7;
                    if (recordField == 1 && recordWireType == ProtobufReader.VARINT) {
                        keyIndex = record.readVarint();
                    } else if (recordField == 2 && recordWireType == ProtobufReader.VARINT) {
                        hashKeyIndex = record.readVarint();
                    } else if (recordField == 3 && recordWireType == ProtobufReader.LENGTH_DELIMITED) {
                        recordData = record.readBytes();
                    } else {
                        record.skip(recordWireType);
                    }
                }
                if (keyIndex < 0 || recordData == null) {
                    throw new ProtobufReader.MalformedException("record without partition key index or data");
                }
                keyIndexes.add(keyIndex);
                hashKeyIndexes.add(hashKeyIndex);
                datas.add(recordData);
            } else {
                aggregate.skip(wireType);
            }
        }
        List<UserRecord> records = new ArrayList<>(datas.size());
        for (int i = 0; i < datas.size(); i++) {
            long keyIndex = keyIndexes.get(i);
            if (keyIndex >= partitionKeys.size()) {
                throw new ProtobufReader.MalformedException("partition key index " + keyIndex + " out of range");
            }
            long hashKeyIndex = hashKeyIndexes.get(i);
            if (hashKeyIndex >= hashKeys.size()) {
                throw new ProtobufReader.MalformedException("explicit hash key index " + hashKeyIndex
                        + " out of range");
            }
            records.add(new UserRecord(datas.get(i), partitionKeys.get((int) keyIndex),
                    hashKeyIndex < 0 ? null : hashKeys.get((int) hashKeyIndex), i));
        }
        return records;
    }

    static byte[] md5(byte[] data) {
        return md5(data, 0, data.length);
    }

    private static byte[] md5(byte[] data, int offset, int length) {
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            md5.update(data, offset, length);
            return md5.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is a required JDK algorithm", e);
        }
    }
}
