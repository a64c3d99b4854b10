package io.github.pyflinkkinesis.sink;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

import org.apache.flink.connector.base.sink.writer.AsyncSinkWriterStateSerializer;
import org.apache.flink.connector.base.sink.writer.BufferedRequestState;

/**
 * The writer's checkpointed buffer. Version 1 writes each entry as: stream, partition key (modified
 * UTF-8), a flag and the explicit hash key if present, the data's length and bytes.
 */
public final class KinesisSinkStateSerializer extends AsyncSinkWriterStateSerializer<KinesisSinkEntry> {
    static final int VERSION = 1;

    @Override
    public int getVersion() {
        return VERSION;
    }

    @Override
    public BufferedRequestState<KinesisSinkEntry> deserialize(int version, byte[] serialized) throws IOException {
        if (version != VERSION) {
            throw new IOException("Kinesis sink state of version " + version + " cannot be read by this connector,"
                    + " which reads version " + VERSION);
        }
        return super.deserialize(version, serialized);
    }

    @Override
    protected void serializeRequestToStream(KinesisSinkEntry entry, DataOutputStream out) throws IOException {
        out.writeUTF(entry.stream());
        out.writeUTF(entry.partitionKey());
        out.writeBoolean(entry.explicitHashKey() != null);
        if (entry.explicitHashKey() != null) {
            out.writeUTF(entry.explicitHashKey());
        }
        out.writeInt(entry.data().length);
        out.write(entry.data());
    }

    @Override
    protected KinesisSinkEntry deserializeRequestFromStream(long requestSize, DataInputStream in) throws IOException {
        String stream = in.readUTF();
        String partitionKey = in.readUTF();
        String explicitHashKey = in.readBoolean() ? in.readUTF() : null;
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        return KinesisSinkEntry.of(stream, partitionKey, explicitHashKey, data);
    }
}
