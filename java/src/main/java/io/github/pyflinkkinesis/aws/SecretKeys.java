package io.github.pyflinkkinesis.aws;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** Which configuration values are secrets, and a printable copy of a configuration without them. */
public final class SecretKeys {
    private SecretKeys() {
    }

    /** True for keys whose values must never be shown (as pyflink_kinesis.properties.is_secret_key). */
    public static boolean isSecretKey(String key) {
        String k = key.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
        return k.contains("secret") || k.contains("sessiontoken") || k.contains("password");
    }

    /** {@code properties}, sorted, with every secret shown as {@code ****}. */
    public static Map<String, String> masked(Map<String, String> properties) {
        Map<String, String> shown = new TreeMap<>();
        properties.forEach((k, v) -> shown.put(k, isSecretKey(k) ? "****" : v));
        return shown;
    }
}
