package io.github.pyflinkkinesis.source.reader;

/**
 * A record (or a KPL sub-record) fetched from a shard, on its way from the fetcher thread to the
 * emitter. Immutable.
 */
public final class KinesisRecord {
    private final byte[] data;
    private final String partitionKey;
    private final String sequenceNumber;
    private final Long subSequenceNumber;
    private final long arrivalTimeMillis;
    private final boolean endOfRecord;

    /**
     * @param subSequenceNumber index inside a KPL aggregate, or null for a plain record
     * @param endOfRecord true for a plain record and an aggregate's last sub-record: once it is
     *     emitted, reading resumes after the whole Kinesis record
     */
    public KinesisRecord(byte[] data, String partitionKey, String sequenceNumber, Long subSequenceNumber,
                         long arrivalTimeMillis, boolean endOfRecord) {
        this.data = data;
        this.partitionKey = partitionKey;
        this.sequenceNumber = sequenceNumber;
        this.subSequenceNumber = subSequenceNumber;
        this.arrivalTimeMillis = arrivalTimeMillis;
        this.endOfRecord = endOfRecord;
    }

    public byte[] data() {
        return data;
    }

    public String partitionKey() {
        return partitionKey;
    }

    public String sequenceNumber() {
        return sequenceNumber;
    }

    public Long subSequenceNumber() {
        return subSequenceNumber;
    }

    public long arrivalTimeMillis() {
        return arrivalTimeMillis;
    }

    public boolean endOfRecord() {
        return endOfRecord;
    }
}
