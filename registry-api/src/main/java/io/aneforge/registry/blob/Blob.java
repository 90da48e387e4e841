package io.aneforge.registry.blob;

/** A verified, content-addressed blob. */
public record Blob(String digestHex, long size, String mediaType, String storageKey) {

    public String digest() {
        return "sha256:" + digestHex;
    }

    public static String keyFor(String hex) {
        return "blobs/sha256/" + hex;
    }
}
