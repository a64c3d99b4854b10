package io.github.pyflinkkinesis.source.reader;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** KPL aggregates for reader tests: user record {@code d} has partition key {@code "pk-" + d}. */
final class ReaderTestData {
    private ReaderTestData() {
    }

    static byte[] aggregate(String... datas) throws Exception {
        ByteArrayOutputStream protobuf = new ByteArrayOutputStream();
        for (String data : datas) {
            field(protobuf, 1, ("pk-" + data).getBytes(StandardCharsets.UTF_8));
        }
        for (int i = 0; i < datas.length; i++) {
            ByteArrayOutputStream record = new ByteArrayOutputStream();
            record.write(1 << 3);
            record.write(i);
            field(record, 3, datas[i].getBytes(StandardCharsets.UTF_8));
            field(protobuf, 3, record.toByteArray());
        }
        byte[] body = protobuf.toByteArray();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0xF3, (byte) 0x89, (byte) 0x9A, (byte) 0xC2});
        out.write(body);
        out.write(MessageDigest.getInstance("MD5").digest(body));
        return out.toByteArray();
    }

    /** A length-delimited field; lengths and indexes here stay below 128, so one byte each. */
    private static void field(ByteArrayOutputStream out, int number, byte[] value) {
        out.write(number << 3 | 2);
        out.write(value.length);
        out.write(value, 0, value.length);
    }
}
