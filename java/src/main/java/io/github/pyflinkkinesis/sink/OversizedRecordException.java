package io.github.pyflinkkinesis.sink;

/**
 * A record over its stream's limit (data plus UTF-8 partition key); the message names stream, key, the limit
 * and where the limit came from.
 */
public final class OversizedRecordException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String stream;
    private final String partitionKey;
    private final long sizeInBytes;
    private final long limit;
    private final String limitSource;

    OversizedRecordException(String stream, String partitionKey, long sizeInBytes, long limit, String limitSource) {
        super("Kinesis sink: a record for stream " + KinesisSinkEntry.quote(stream) + " with partition key "
                + KinesisSinkEntry.quote(partitionKey) + " is " + sizeInBytes + " bytes (data + UTF-8 partition key),"
                + " over Kinesis' limit of " + limit + " bytes (" + limitSource + ");"
                + " set " + KinesisSinkConfig.SKIP_OVERSIZED + "=true to skip such records");
        this.stream = stream;
        this.partitionKey = partitionKey;
        this.sizeInBytes = sizeInBytes;
        this.limit = limit;
        this.limitSource = limitSource;
    }

    public String stream() {
        return stream;
    }

    public String partitionKey() {
        return partitionKey;
    }

    public long sizeInBytes() {
        return sizeInBytes;
    }

    /** The limit the record is over, in bytes. */
    public long limit() {
        return limit;
    }

    /** Where the limit came from: {@code sink.max-record-size}, the stream's {@code MaxRecordSizeInKiB}, or the default. */
    public String limitSource() {
        return limitSource;
    }
}
