package io.github.pyflinkkinesis.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import org.apache.flink.connector.base.sink.writer.BufferedRequestState;
import org.apache.flink.connector.base.sink.writer.RequestEntryWrapper;
import org.junit.jupiter.api.Test;

class KinesisSinkStateSerializerTest {
    private final KinesisSinkStateSerializer serializer = new KinesisSinkStateSerializer();

    private static BufferedRequestState<KinesisSinkEntry> state() {
        byte[] everyByte = new byte[256];
        for (int i = 0; i < 256; i++) {
            everyByte[i] = (byte) i;
        }
        List<RequestEntryWrapper<KinesisSinkEntry>> entries = new ArrayList<>();
        for (KinesisSinkEntry entry : List.of(
                KinesisSinkEntry.of("orders", "k\u00e9\uD83D\uDE00\u0000", null, everyByte),
                KinesisSinkEntry.of("arn:aws:kinesis:us-east-1:000000000000:stream/x", "k", "0", new byte[0]),
                KinesisSinkEntry.of("s", "k".repeat(256), "340282366920938463463374607431768211455", new byte[1000]))) {
            entries.add(new RequestEntryWrapper<>(entry, entry.sizeInBytes()));
        }
        return new BufferedRequestState<>(entries);
    }

    @Test
    void roundTripKeepsEveryFieldAndSize() throws IOException {
        BufferedRequestState<KinesisSinkEntry> state = state();
        BufferedRequestState<KinesisSinkEntry> back = serializer.deserialize(1, serializer.serialize(state));
        assertEquals(entries(state), entries(back));
        assertEquals(sizes(state), sizes(back));
        assertEquals(state.getStateSize(), back.getStateSize());
    }

    @Test
    void versionIsCheckedOnRead() throws IOException {
        assertEquals(1, serializer.getVersion());
        byte[] bytes = serializer.serialize(state());
        IOException e = assertThrows(IOException.class, () -> serializer.deserialize(2, bytes));
        assertTrue(e.getMessage().contains("version 2"), e.getMessage());
    }

    private static List<KinesisSinkEntry> entries(BufferedRequestState<KinesisSinkEntry> state) {
        return state.getBufferedRequestEntries().stream().map(RequestEntryWrapper::getRequestEntry)
                .collect(Collectors.toList());
    }

    private static List<Long> sizes(BufferedRequestState<KinesisSinkEntry> state) {
        return state.getBufferedRequestEntries().stream().map(RequestEntryWrapper::getSize)
                .collect(Collectors.toList());
    }
}
