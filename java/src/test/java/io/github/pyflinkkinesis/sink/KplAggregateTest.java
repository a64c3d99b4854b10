package io.github.pyflinkkinesis.sink;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import io.github.pyflinkkinesis.deagg.KplDeaggregator;
import io.github.pyflinkkinesis.deagg.UserRecord;

/** The KPL aggregate format: the same bytes as the Beam writer's, read back by the reader's de-aggregator. */
class KplAggregateTest {
    /**
     * beam_transforms.aggregation.AggregateBuilder: add('k1', None, b'alpha'),
     * add('k2', '170141183460469231731687303715884105728', b'\x00\x01\xff'), add('k1', None, b'beta'),
     * add('k\u00e9', '1', b''), then encode().
     */
    private static final String PYTHON_VECTOR = "f3899ac20a026b310a026b3212273137303134313138333436303436393233313733"
            + "313638373330333731353838343130353732380a036bc3a91201311a0908001a05616c7068611a09080110001a030001ff1a0808"
            + "001a04626574611a06080210011a008e263f49bfc14da66081fa029cf30fed";

    private static KinesisSinkEntry entry(String key, String hashKey, byte[] data) {
        return KinesisSinkEntry.of("s", key, hashKey, data);
    }

    private static byte[] hex(String s) {
        byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    @Test
    void encodesTheBytesThePythonAggregatorWrites() {
        KplAggregate aggregate = new KplAggregate();
        aggregate.add(entry("k1", null, "alpha".getBytes()));
        aggregate.add(entry("k2", "170141183460469231731687303715884105728", new byte[] {0, 1, (byte) 0xff}));
        aggregate.add(entry("k1", null, "beta".getBytes()));
        aggregate.add(entry("k\u00e9", "1", new byte[0]));
        byte[] bytes = aggregate.encode();

        byte[] expected = hex(PYTHON_VECTOR);
        assertArrayEquals(expected, bytes);
        assertArrayEquals(Arrays.copyOf(KplAggregate.MAGIC, 4), Arrays.copyOf(bytes, 4));
        assertArrayEquals(KplAggregate.md5(Arrays.copyOfRange(bytes, 4, bytes.length - 16)),
                Arrays.copyOfRange(bytes, bytes.length - 16, bytes.length));
        assertEquals(bytes.length, aggregate.size());
    }

    @Test
    void deaggregatesToEveryUserRecordWithItsKeysByteForByte() {
        Random random = new Random(22);
        List<KinesisSinkEntry> users = new ArrayList<>();
        KplAggregate aggregate = new KplAggregate();
        for (int i = 0; i < 300; i++) {
            byte[] data = new byte[random.nextInt(300)];
            random.nextBytes(data);
            String hashKey = i % 3 == 0 ? Long.toUnsignedString(random.nextLong()) : null;
            KinesisSinkEntry user = entry("key-" + (i % 17) + "-\u00fc", hashKey, data);
            int predicted = aggregate.sizeWith(user);
            aggregate.add(user);
            assertEquals(predicted, aggregate.size(), "sizeWith predicts the size after add");
            users.add(user);
        }
        byte[] bytes = aggregate.encode();
        assertEquals(aggregate.size(), bytes.length);

        List<UserRecord> back = KplDeaggregator.deaggregate(bytes);
        assertEquals(users.size(), back.size());
        for (int i = 0; i < users.size(); i++) {
            assertEquals(users.get(i).partitionKey(), back.get(i).partitionKey());
            assertEquals(users.get(i).explicitHashKey(), back.get(i).explicitHashKey());
            assertArrayEquals(users.get(i).data(), back.get(i).data());
            assertEquals(i, back.get(i).subSequenceNumber());
        }
        bytes[10] ^= 1;
        assertNull(KplDeaggregator.deaggregate(bytes), "a wrong MD5 is no aggregate");
    }
}
