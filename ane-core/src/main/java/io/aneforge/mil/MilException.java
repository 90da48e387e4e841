package io.aneforge.mil;

/**
 * A MIL program is wrong in a way a user (or a model file) can cause: an op bound to
 * the wrong shape, an unknown parameter, an op newer than the deployment target. The
 * message names the op, the argument and the rule.
 */
public class MilException extends RuntimeException {
    public MilException(String message) {
        super(message);
    }

    public MilException(String message, Throwable cause) {
        super(message, cause);
    }
}
