package io.aneforge.cli;

/** A command that ran but did not succeed (a gate missed, a checksum differed); exit code 1. */
public class CommandFailure extends RuntimeException {
    public CommandFailure(String message) {
        super(message);
    }

    public CommandFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
