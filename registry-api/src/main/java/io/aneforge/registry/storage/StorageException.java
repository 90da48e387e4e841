package io.aneforge.registry.storage;

/** The object store failed (unreachable, refused); not a client error. */
public class StorageException extends RuntimeException {
    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
