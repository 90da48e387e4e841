package io.aneforge.agent.golden;

/** Golden data could not be fetched, verified or decoded; the message names the blob and the rule. */
public class GoldenException extends RuntimeException {

    public GoldenException(String message) {
        super(message);
    }

    public GoldenException(String message, Throwable cause) {
        super(message, cause);
    }
}
