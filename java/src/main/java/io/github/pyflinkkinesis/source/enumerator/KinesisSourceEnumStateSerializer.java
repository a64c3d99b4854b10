package io.github.pyflinkkinesis.source.enumerator;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import io.github.pyflinkkinesis.source.split.KinesisShardSplitSerializer;

/**
 * Serializes {@link KinesisSourceEnumState}. Version 2 adds the streams' creation times at the end; version 1
 * (without them) still reads, as a state whose creation times are unknown. The splits inside carry the split
 * serializer's version, so either can evolve on its own.
 */
public final class KinesisSourceEnumStateSerializer implements SimpleVersionedSerializer<KinesisSourceEnumState> {
    public static final int VERSION = 2;

    @Override
    public int getVersion() {
        return VERSION;
    }

    @Override
    public byte[] serialize(KinesisSourceEnumState state) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(256);
        out.writeInt(state.lastSeenShardIds().size());
        for (Map.Entry<String, String> entry : state.lastSeenShardIds().entrySet()) {
            out.writeUTF(entry.getKey());
            out.writeUTF(entry.getValue());
        }
        out.writeInt(KinesisShardSplitSerializer.VERSION);
        out.writeInt(state.unassigned().size());
        for (KinesisShardSplit split : state.unassigned()) {
            KinesisShardSplitSerializer.write(split, out);
        }
        out.writeInt(state.assigned().size());
        for (Map.Entry<String, Integer> entry : state.assigned().entrySet()) {
            out.writeUTF(entry.getKey());
            out.writeInt(entry.getValue());
        }
        out.writeInt(state.finished().size());
        for (String splitId : state.finished()) {
            out.writeUTF(splitId);
        }
        out.writeInt(state.streamCreationMillis().size());
        for (Map.Entry<String, Long> entry : state.streamCreationMillis().entrySet()) {
            out.writeUTF(entry.getKey());
            out.writeLong(entry.getValue());
        }
        return out.getCopyOfBuffer();
    }

    @Override
    public KinesisSourceEnumState deserialize(int version, byte[] serialized) throws IOException {
        if (version != 1 && version != VERSION) {
            throw new IOException("unknown Kinesis enumerator state version " + version + " (this build reads 1 to "
                    + VERSION + ")");
        }
        DataInputDeserializer in = new DataInputDeserializer(serialized);
        int streams = in.readInt();
        Map<String, String> lastSeen = new LinkedHashMap<>();
        for (int i = 0; i < streams; i++) {
            lastSeen.put(in.readUTF(), in.readUTF());
        }
        int splitVersion = in.readInt();
        int unassignedCount = in.readInt();
        List<KinesisShardSplit> unassigned = new ArrayList<>(unassignedCount);
        for (int i = 0; i < unassignedCount; i++) {
            unassigned.add(KinesisShardSplitSerializer.read(splitVersion, in));
        }
        int assignedCount = in.readInt();
        Map<String, Integer> assigned = new LinkedHashMap<>();
        for (int i = 0; i < assignedCount; i++) {
            assigned.put(in.readUTF(), in.readInt());
        }
        int finishedCount = in.readInt();
        Set<String> finished = new LinkedHashSet<>();
        for (int i = 0; i < finishedCount; i++) {
            finished.add(in.readUTF());
        }
        Map<String, Long> created = new LinkedHashMap<>();
        int createdCount = version >= 2 ? in.readInt() : 0;
        for (int i = 0; i < createdCount; i++) {
            created.put(in.readUTF(), in.readLong());
        }
        if (in.available() != 0) {
            throw new IOException("trailing bytes after a Kinesis enumerator state of version " + version);
        }
        return new KinesisSourceEnumState(lastSeen, unassigned, assigned, finished, created);
    }
}
