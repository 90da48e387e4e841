package io.aneforge.agent.cache;

import java.net.URI;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * An artifact to fetch: its sha256 digest (the cache key and the integrity check), its
 * size in bytes when the registry told us (-1 when unknown) and where to download it.
 */
public record ArtifactRef(String sha256Hex, long sizeBytes, URI downloadUrl) {

    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

    public ArtifactRef {
        if (sha256Hex == null) {
            throw new IllegalArgumentException("artifact digest must not be null");
        }
        String hex = sha256Hex.startsWith("sha256:") ? sha256Hex.substring("sha256:".length()) : sha256Hex;
        hex = hex.toLowerCase(Locale.ROOT);
        if (!HEX64.matcher(hex).matches()) {
            throw new IllegalArgumentException("artifact digest '" + sha256Hex
                    + "' is not a sha256 digest: expected 64 hex digits, optionally prefixed 'sha256:'");
        }
        sha256Hex = hex;
        if (sizeBytes < -1) {
            throw new IllegalArgumentException("sizeBytes must be -1 (unknown) or >= 0, got " + sizeBytes);
        }
    }

    public String digest() {
        return "sha256:" + sha256Hex;
    }
}
