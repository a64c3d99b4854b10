package io.github.pyflinkkinesis.source.split;

import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Serializes {@link KinesisShardSplit}s for checkpoints. Version 2 adds the stream's creation time after the
 * position; version 1 (without it) still reads, as a split of a stream whose creation time is unknown. Version 3
 * adds the shard's hash key range (a flag, then both ends as decimal text); older versions read as splits whose
 * range is not known.
 */
public final class KinesisShardSplitSerializer implements SimpleVersionedSerializer<KinesisShardSplit> {
    public static final int VERSION = 3;

    @Override
    public int getVersion() {
        return VERSION;
    }

    @Override
    public byte[] serialize(KinesisShardSplit split) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(128);
        write(split, out);
        return out.getCopyOfBuffer();
    }

    @Override
    public KinesisShardSplit deserialize(int version, byte[] serialized) throws IOException {
        DataInputDeserializer in = new DataInputDeserializer(serialized);
        KinesisShardSplit split = read(version, in);
        if (in.available() != 0) {
            throw new IOException("trailing bytes after a Kinesis shard split of version " + version);
        }
        return split;
    }

    /** Writes {@code split} in the current version's layout (shared with the enumerator's state). */
    public static void write(KinesisShardSplit split, DataOutputView out) throws IOException {
        out.writeUTF(split.stream());
        out.writeUTF(split.shardId());
        out.writeInt(split.parentShardIds().size());
        for (String parent : split.parentShardIds()) {
            out.writeUTF(parent);
        }
        StartingPosition position = split.startingPosition();
        out.writeByte(position.kind().code);
        switch (position.kind()) {
            case AT_TIMESTAMP:
                out.writeLong(position.timestampMillis());
                break;
            case AFTER_RECORD:
                out.writeUTF(position.sequenceNumber());
                out.writeBoolean(position.subSequenceNumber() != null);
                if (position.subSequenceNumber() != null) {
                    out.writeLong(position.subSequenceNumber());
                }
                break;
            default:
                break;
        }
        out.writeLong(split.streamCreationMillis());
        out.writeBoolean(split.startingHashKey() != null);
        if (split.startingHashKey() != null) {
            out.writeUTF(split.startingHashKey().toString());
            out.writeUTF(split.endingHashKey().toString());
        }
    }

    /** Reads a split written by {@link #write} in layout {@code version}. */
    public static KinesisShardSplit read(int version, DataInputView in) throws IOException {
        if (version < 1 || version > VERSION) {
            throw new IOException("unknown Kinesis shard split version " + version + " (this build reads 1 to " + VERSION + ")");
        }
        String stream = in.readUTF();
        String shardId = in.readUTF();
        int parents = in.readInt();
        List<String> parentIds = new ArrayList<>(parents);
        for (int i = 0; i < parents; i++) {
            parentIds.add(in.readUTF());
        }
        StartingPosition position;
        StartingPosition.Kind kind = StartingPosition.Kind.ofCode(in.readByte());
        switch (kind) {
            case TRIM_HORIZON:
                position = StartingPosition.trimHorizon();
                break;
            case AT_TIMESTAMP:
                position = StartingPosition.atTimestamp(in.readLong());
                break;
            case AFTER_RECORD: {
                String sequence = in.readUTF();
                Long sub = in.readBoolean() ? in.readLong() : null;
                position = StartingPosition.afterSubRecord(sequence, sub);
                break;
            }
            default:
                position = StartingPosition.shardEnd();
        }
        long creationMillis = version >= 2 ? in.readLong() : 0L;
        BigInteger start = null;
        BigInteger end = null;
        if (version >= 3 && in.readBoolean()) {
            start = new BigInteger(in.readUTF());
            end = new BigInteger(in.readUTF());
        }
        return new KinesisShardSplit(stream, shardId, parentIds, position, creationMillis, start, end);
    }
}
