package io.github.pyflinkkinesis.aws.retry;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The Kinesis error codes the connector acts on, read once from {@code error_codes.txt}: the file
 * {@code pyflink_kinesis/spec/error_codes.txt} that the Python side reads too, packaged into the jar.
 */
public final class ErrorCodes {
    /** Where a code appears: as a whole call's error code, or as one PutRecords entry's ErrorCode. */
    public enum Scope { CALL, ENTRY }

    /** One line of the file. */
    public static final class Code {
        private final ErrorKind kind;
        private final Set<Scope> scopes;

        Code(ErrorKind kind, Set<Scope> scopes) {
            this.kind = kind;
            this.scopes = Collections.unmodifiableSet(scopes);
        }

        public ErrorKind kind() {
            return kind;
        }

        public Set<Scope> scopes() {
            return scopes;
        }
    }

    static final String RESOURCE = "error_codes.txt";
    private static final Map<String, Code> CODES = load();

    private ErrorCodes() {
    }

    /** Every code of the file, in file order. */
    public static Map<String, Code> all() {
        return CODES;
    }

    /** The kind of {@code code} where it appears in {@code scope}, or {@code null} if the file does not list it so. */
    public static ErrorKind kindOf(String code, Scope scope) {
        Code found = code == null ? null : CODES.get(code);
        return found != null && found.scopes.contains(scope) ? found.kind : null;
    }

    private static Map<String, Code> load() {
        try (InputStream in = ErrorCodes.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the connector jar");
            }
            return parse(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }

    /** Lines of "code kind scope[,scope]"; '#' starts a comment. */
    static Map<String, Code> parse(BufferedReader reader) throws IOException {
        Map<String, Code> codes = new LinkedHashMap<>();
        String line;
        int number = 0;
        while ((line = reader.readLine()) != null) {
            number++;
            String text = line.replaceFirst("#.*", "").trim();
            if (text.isEmpty()) {
                continue;
            }
            String[] fields = text.split("\\s+");
            try {
                if (fields.length != 3) {
                    throw new IllegalArgumentException("expected: code kind scope");
                }
                Set<Scope> scopes = EnumSet.noneOf(Scope.class);
                for (String scope : fields[2].split(",")) {
                    scopes.add(Scope.valueOf(scope.trim().toUpperCase(Locale.ROOT)));
                }
                if (codes.put(fields[0], new Code(ErrorKind.fromFileName(fields[1]), scopes)) != null) {
                    throw new IllegalArgumentException("listed twice");
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(RESOURCE + " line " + number + ": " + e.getMessage() + ": " + line, e);
            }
        }
        return Collections.unmodifiableMap(codes);
    }
}
