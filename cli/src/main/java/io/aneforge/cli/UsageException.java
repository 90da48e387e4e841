package io.aneforge.cli;

/** The command line asks for something that cannot be done as written; exit code 2. The message names the fix. */
public class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
