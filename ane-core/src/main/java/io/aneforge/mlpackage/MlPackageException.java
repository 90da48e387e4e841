package io.aneforge.mlpackage;

/**
 * A package cannot be written or read: the message names the file, the op/tensor/field
 * and the rule that failed.
 */
public class MlPackageException extends RuntimeException {
    public MlPackageException(String message) {
        super(message);
    }

    public MlPackageException(String message, Throwable cause) {
        super(message, cause);
    }
}
