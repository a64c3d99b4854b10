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
 * batch creator) at {@code sink.flush-buffer.size} (a larger record alone), each sent by the
 * {@link PutRecordsSender} all lines share. Records are checked against their stream's own size limit
 * ({@link RecordSizeLimits}) as they come in and stamped with the processing time (for {@code sink.record-ttl}).
 */
final class KinesisSinkWriter extends AsyncSinkWriter<Row, KinesisSinkEntry> {
    private final PerStreamBuffer buffer;
    private final PutRecordsSender sender;

    KinesisSinkWriter(WriterInitContext context, KinesisSinkConfig config, KinesisAsyncClient client,
            RetryRule retryRule, Collection<BufferedRequestState<KinesisSinkEntry>> states) {
        this(context, config, client, states, new PerStreamBuffer(config.maxBatchSizeInBytes()),
                new PutRecordsSender(context, config, client, retryRule,
                        context.getProcessingTimeService()::getCurrentProcessingTime));
    }

    private KinesisSinkWriter(WriterInitContext context, KinesisSinkConfig config, KinesisAsyncClient client,
            Collection<BufferedRequestState<KinesisSinkEntry>> states, PerStreamBuffer buffer,
            PutRecordsSender sender) {
        super(sender.converter(new RecordSizeLimits(client, config.maxRecordSize())), context,
                PutRecordsSender.writerConfiguration(config), states, buffer, buffer);
        this.buffer = buffer;
        this.sender = sender;
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
