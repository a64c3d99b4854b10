package io.github.pyflinkkinesis.source.reader;

import java.util.ArrayList;

import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceOutput;
import org.apache.flink.types.Row;

/** A reader output that records which split's output each row went through, with its timestamp. */
final class SplitRecordingOutput extends RecordingSourceOutput implements ReaderOutput<Row> {
    SplitRecordingOutput() {
        super(null, new ArrayList<>());
    }

    @Override
    public SourceOutput<Row> createOutputForSplit(String splitId) {
        return new RecordingSourceOutput(splitId, emitted);
    }

    @Override
    public void releaseOutputForSplit(String splitId) {
    }
}
