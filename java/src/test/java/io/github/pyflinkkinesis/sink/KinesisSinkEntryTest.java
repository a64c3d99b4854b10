package io.github.pyflinkkinesis.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;

import org.apache.flink.types.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KinesisSinkEntryTest {
    private static final String MAX_HASH = BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE).toString();

    private static IllegalArgumentException invalid(String stream, String key, String hashKey, byte[] data) {
        return assertThrows(IllegalArgumentException.class, () -> KinesisSinkEntry.of(stream, key, hashKey, data));
    }

    @Test
    void partitionKeyHasOneTo256Characters() {
        String emoji = "\uD83D\uDE00"; // one character, two UTF-16 units, four UTF-8 bytes
        KinesisSinkEntry entry = KinesisSinkEntry.of("s", emoji.repeat(256), null, new byte[3]);
        assertEquals(3 + 4 * 256, entry.sizeInBytes());
        assertTrue(invalid("s", "k".repeat(257), null, new byte[0]).getMessage()
                .contains("stream 's' has a partition key of 257 characters"));
        assertTrue(invalid("orders", "", null, new byte[0]).getMessage()
                .contains("stream 'orders' has an empty partition key"));
        assertTrue(invalid("orders", null, null, new byte[0]).getMessage().contains("stream 'orders'"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "1", "340282366920938463463374607431768211455"})
    void validHashKeys(String hashKey) {
        assertEquals(hashKey, KinesisSinkEntry.of("s", "k", hashKey, new byte[0]).explicitHashKey());
        assertEquals(MAX_HASH, "340282366920938463463374607431768211455");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-1", "01", "1.5", "12a", " 1", "340282366920938463463374607431768211456",
            "99999999999999999999999999999999999999999", "\u0661"})
    void invalidHashKeysNameStreamAndKey(String hashKey) {
        String message = invalid("orders", "k7", hashKey, new byte[0]).getMessage();
        assertTrue(message.contains("stream 'orders' with partition key 'k7' has an invalid explicit hash key"),
                message);
    }

    @Test
    void recordsUpToTenMebibytesIncludingTheKeyAreAcceptedHereEachStreamsOwnLimitIsCheckedByTheWriter() {
        int tenMiB = 10 * 1024 * 1024;
        assertEquals(tenMiB, KinesisSinkEntry.of("s", "ab", null, new byte[tenMiB - 2]).sizeInBytes());
        OversizedRecordException e = assertThrows(OversizedRecordException.class,
                () -> KinesisSinkEntry.of("s", "abc", null, new byte[tenMiB - 2]));
        assertEquals(tenMiB + 1, e.sizeInBytes());
        assertEquals(tenMiB, e.limit());
        assertTrue(e.getMessage().contains("stream 's' with partition key 'abc'"), e.getMessage());
        assertTrue(e.getMessage().contains("limit of 10485760 bytes (no stream takes more"), e.getMessage());
        assertTrue(e.getMessage().contains(KinesisSinkConfig.SKIP_OVERSIZED), e.getMessage());
    }

    @Test
    void missingStreamOrDataIsNamed() {
        assertTrue(invalid(null, "k1", null, new byte[0]).getMessage().contains("no stream (partition key 'k1')"));
        assertTrue(invalid("s", "k1", null, null).getMessage().contains("stream 's' with partition key 'k1' has no data"));
    }

    @Test
    void converterReadsRowsByPositionOrName() {
        RowEntryConverter converter = new RowEntryConverter();
        byte[] data = {(byte) 0xff, 0, (byte) 0xc3};
        KinesisSinkEntry byPosition = converter.apply(Row.of("s", "k", "42", data), TestWriterContext.NO_CONTEXT);
        Row named = Row.withNames();
        named.setField("data", data);
        named.setField("explicit_hash_key", "42");
        named.setField("partition_key", "k");
        named.setField("stream", "s");
        assertEquals(byPosition, converter.apply(named, TestWriterContext.NO_CONTEXT));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> converter.apply(Row.of("s", "k", null, "text"), TestWriterContext.NO_CONTEXT))
                .getMessage().contains("field data must be byte[]"));
    }

    @Test
    void toStringShowsNoPayload() {
        String shown = KinesisSinkEntry.of("s", "k", null, "secret-payload".getBytes()).toString();
        assertTrue(!shown.contains("secret") && shown.contains("bytes=14"), shown);
    }
}
