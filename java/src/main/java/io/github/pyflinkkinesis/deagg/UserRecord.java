package io.github.pyflinkkinesis.deagg;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;

/** One user record inside a KPL aggregate: its data, its own partition key and explicit hash key, its index. */
public final class UserRecord {
    private final byte[] data;
    private final String partitionKey;
    private final String explicitHashKey;
    private final long subSequenceNumber;

    UserRecord(byte[] data, String partitionKey, String explicitHashKey, long subSequenceNumber) {
        this.data = data;
        this.partitionKey = partitionKey;
        this.explicitHashKey = explicitHashKey;
        this.subSequenceNumber = subSequenceNumber;
    }

    /** The explicit hash key the user record was written with, or {@code null}. */
    public String explicitHashKey() {
        return explicitHashKey;
    }

    public byte[] data() {
        return data;
    }

    public String partitionKey() {
        return partitionKey;
    }

    /** The 128-bit hash key Kinesis routes the user record by: its explicit hash key, else the MD5 of its partition key. */
    public BigInteger hashKey() {
        if (explicitHashKey != null) {
            return new BigInteger(explicitHashKey);
        }
        return new BigInteger(1, KplDeaggregator.md5(partitionKey.getBytes(StandardCharsets.UTF_8)));
    }

    /** The record's index in its aggregate, from 0. */
    public long subSequenceNumber() {
        return subSequenceNumber;
    }
}
