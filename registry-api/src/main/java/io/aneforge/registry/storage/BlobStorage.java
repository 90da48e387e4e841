package io.aneforge.registry.storage;

import java.io.InputStream;

/** The object store seam: S3 (MinIO SDK) in production and tests. Keys are opaque strings. */
public interface BlobStorage {

    /** Stores {@code in} under {@code key}; {@code size} is -1 when unknown. */
    void put(String key, InputStream in, long size, String contentType);

    /** Copies an object within the bucket (server-side). */
    void copy(String fromKey, String toKey);

    boolean exists(String key);

    /** Opens {@code length} bytes from {@code offset} (length -1: to the end). The caller closes the stream. */
    InputStream open(String key, long offset, long length);

    void delete(String key);

    /** Throws when the store cannot be reached; used by the health indicator. */
    void check();
}
