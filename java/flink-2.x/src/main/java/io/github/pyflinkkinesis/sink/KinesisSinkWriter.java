package io.github.pyflinkkinesis.sink;

import java.io.IOException;
import java.util.Collection;
import java.util.List;

import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.connector.base.sink.writer.AsyncSinkWriter;
import org.apache.flink.connector.base.sink.writer.BufferedRequestState;
import org.apache.flink.connector.base.sink.writer.ResultHandler;
import org.apache.flink.types.Row;

import io.github.pyflinkkinesis.aws.retry.RetryRule;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;

/**
 * The Flink 2.x writer: per-stream batches cut by {@link PerStreamBuffer} (2.x's pluggable buffer and
 * batch creator), each sent by the {@link PutRecordsSender} all lines share.
 */
final class KinesisSinkWriter extends AsyncSinkWriter<Row, KinesisSinkEntry> {
    private final PerStreamBuffer buffer;
    private final PutRecordsSender sender;

    KinesisSinkWriter(WriterInitContext context, KinesisSinkConfig config, KinesisAsyncClient client,
            RetryRule retryRule, Collection<BufferedRequestState<KinesisSinkEntry>> states) {
        this(context, config, client, retryRule, states, new PerStreamBuffer(config.maxBatchSizeInBytes()));
    }

    private KinesisSinkWriter(WriterInitContext context, KinesisSinkConfig config, KinesisAsyncClient client,
            RetryRule retryRule, Collection<BufferedRequestState<KinesisSinkEntry>> states, PerStreamBuffer buffer) {
        super(new RowEntryConverter(), context, PutRecordsSender.writerConfiguration(config), states, buffer, buffer);
        this.buffer = buffer;
        this.sender = new PutRecordsSender(context, config, client, retryRule);
    }

    @Override
    public void write(Row element, Context context) throws IOException, InterruptedException {
        sender.awaitRoom(buffer.size());
        try {
            super.write(element, context);
        } catch (OversizedRecordException e) {
            sender.onOversized(e);
        }
    }

    @Override
    protected void submitRequestEntries(List<KinesisSinkEntry> entries, ResultHandler<KinesisSinkEntry> handler) {
        sender.send(entries.get(0).stream(), entries, handler);
    }

    /** Records buffered or in calls not yet answered. */
    @VisibleForTesting
    int outstandingRecords() {
        return buffer.size() + sender.inFlightRecords();
    }

    @Override
    protected long getSizeInBytes(KinesisSinkEntry entry) {
        return entry.sizeInBytes();
    }

    @Override
    public void close() {
        sender.close();
    }
}
