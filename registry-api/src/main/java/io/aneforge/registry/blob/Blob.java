package io.aneforge.registry.blob;

import java.util.Locale;
import java.util.Set;

/** A verified, content-addressed blob. */
public record Blob(String digestHex, long size, String mediaType, String storageKey) {

    static final String OCTET_STREAM = "application/octet-stream";

    /**
     * The media types a blob is stored and served with: what the registry's clients upload (variant
     * archives, golden data) and the neutral default. Anything else an uploader declares, text/html
     * included, would let a blob render in a browser on the registry's origin.
     */
    static final Set<String> SERVED_TYPES = Set.of(OCTET_STREAM, "application/zip",
            "application/vnd.aneforge.golden-inputs", "application/vnd.aneforge.golden-outputs");

    public String digest() {
        return "sha256:" + digestHex;
    }

    public static String keyFor(String hex) {
        return "blobs/sha256/" + hex;
    }

    /** {@code declared} without parameters if it is one of {@link #SERVED_TYPES}, otherwise {@code application/octet-stream}. */
    static String servedType(String declared) {
        if (declared == null) return OCTET_STREAM;
        int semicolon = declared.indexOf(';');
        String type = (semicolon < 0 ? declared : declared.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
        return SERVED_TYPES.contains(type) ? type : OCTET_STREAM;
    }
}
