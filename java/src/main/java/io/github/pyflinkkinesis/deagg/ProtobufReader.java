package io.github.pyflinkkinesis.deagg;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The few protobuf wire-format reads a KPL aggregate needs: tags, varints and length-delimited
 * fields; other fields are skipped. Throws {@link MalformedException} on anything truncated or odd.
 */
final class ProtobufReader {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    /** The bytes are not the protobuf message they claim to be. */
    static final class MalformedException extends Exception {
        private static final long serialVersionUID = 1L;

        MalformedException(String message) {
            super(message, null, false, false);
        }
    }

    private final byte[] buffer;
    private int position;
    private final int limit;

    ProtobufReader(byte[] buffer, int offset, int limit) {
        this.buffer = buffer;
        this.position = offset;
        this.limit = limit;
    }

    boolean hasMore() {
        return position < limit;
    }

    /** The next field's tag: field number {@code << 3 |} wire type. */
    int readTag() throws MalformedException {
        long tag = readVarint();
        if (tag >>> 3 == 0 || tag > Integer.MAX_VALUE) {
            throw new MalformedException("bad field tag " + tag);
        }
        return (int) tag;
    }

    long readVarint() throws MalformedException {
        long value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (position >= limit) {
                throw new MalformedException("truncated varint");
            }
            byte b = buffer[position++];
            value |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return value;
            }
        }
        throw new MalformedException("varint longer than 10 bytes");
    }

    byte[] readBytes() throws MalformedException {
        int length = readLength();
        byte[] bytes = Arrays.copyOfRange(buffer, position, position + length);
        position += length;
        return bytes;
    }

    String readString() throws MalformedException {
        int length = readLength();
        String value = new String(buffer, position, length, StandardCharsets.UTF_8);
        position += length;
        return value;
    }

    /** A reader over the embedded message that comes next; this reader moves past it. */
    ProtobufReader readMessage() throws MalformedException {
        int length = readLength();
        ProtobufReader message = new ProtobufReader(buffer, position, position + length);
        position += length;
        return message;
    }

    void skip(int wireType) throws MalformedException {
        switch (wireType) {
            case VARINT:
                readVarint();
                break;
            case FIXED64:
                advance(8);
                break;
            case LENGTH_DELIMITED:
                advance(readLength());
                break;
            case FIXED32:
                advance(4);
                break;
            default:
                throw new MalformedException("unsupported wire type " + wireType);
        }
    }

    private int readLength() throws MalformedException {
        long length = readVarint();
        if (length < 0 || length > limit - position) {
            throw new MalformedException("length " + length + " runs past the message");
        }
        return (int) length;
    }

    private void advance(int count) throws MalformedException {
        if (count > limit - position) {
            throw new MalformedException("field runs past the message");
        }
        position += count;
    }
}
