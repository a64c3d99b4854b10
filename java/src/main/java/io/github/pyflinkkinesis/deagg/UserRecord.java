package io.github.pyflinkkinesis.deagg;

/** One user record inside a KPL aggregate: its data, its own partition key and its index. */
public final class UserRecord {
    private final byte[] data;
    private final String partitionKey;
    private final long subSequenceNumber;

    UserRecord(byte[] data, String partitionKey, long subSequenceNumber) {
        this.data = data;
        this.partitionKey = partitionKey;
        this.subSequenceNumber = subSequenceNumber;
    }

    public byte[] data() {
        return data;
    }

    public String partitionKey() {
        return partitionKey;
    }

    /** The record's index in its aggregate, from 0. */
    public long subSequenceNumber() {
        return subSequenceNumber;
    }
}
