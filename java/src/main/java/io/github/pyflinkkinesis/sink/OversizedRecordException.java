package io.github.pyflinkkinesis.sink;

/** A record over Kinesis' 1 MiB limit (data plus UTF-8 partition key); the message names stream and key. */
public final class OversizedRecordException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String stream;
    private final String partitionKey;
    private final long sizeInBytes;

    OversizedRecordException(String stream, String partitionKey, long sizeInBytes) {
        super("Kinesis sink: a record for stream " + KinesisSinkEntry.quote(stream) + " with partition key "
                + KinesisSinkEntry.quote(partitionKey) + " is " + sizeInBytes + " bytes (data + UTF-8 partition key),"
                + " over Kinesis' limit of " + KinesisSinkEntry.MAX_RECORD_BYTES + " bytes;"
                + " set " + KinesisSinkConfig.SKIP_OVERSIZED + "=true to skip such records");
        this.stream = stream;
        this.partitionKey = partitionKey;
        this.sizeInBytes = sizeInBytes;
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
}
