package io.github.pyflinkkinesis.source.split;

/** A split being read: the immutable split plus the position after the last emitted record. */
public final class KinesisShardSplitState {
    private final KinesisShardSplit split;
    private final String streamName;
    private StartingPosition position;

    public KinesisShardSplitState(KinesisShardSplit split) {
        this.split = split;
        this.streamName = split.streamName();
        this.position = split.startingPosition();
    }

    public KinesisShardSplit split() {
        return split;
    }

    public String streamName() {
        return streamName;
    }

    public StartingPosition position() {
        return position;
    }

    /** Records that the record ({@code subSequenceNumber} null) or sub-record was emitted. */
    public void emitted(String sequenceNumber, Long subSequenceNumber) {
        position = StartingPosition.afterSubRecord(sequenceNumber, subSequenceNumber);
    }

    /** The split to checkpoint: it resumes just after the last emitted record. */
    public KinesisShardSplit toSplit() {
        return split.withStartingPosition(position);
    }
}
