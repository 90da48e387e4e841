package io.aneforge.agent.golden;

import io.aneforge.agent.cache.Fault;
import java.util.Objects;

/**
 * Golden data could not be fetched, verified or decoded; the message names the blob and the rule, {@link #fault()}
 * whether that is the blob's fault (final) or the transfer's (worth another try).
 */
public class GoldenException extends RuntimeException {

    private final Fault fault;

    public GoldenException(Fault fault, String message) {
        this(fault, message, null);
    }

    public GoldenException(Fault fault, String message, Throwable cause) {
        super(message, cause);
        this.fault = Objects.requireNonNull(fault, "fault");
    }

    public Fault fault() {
        return fault;
    }
}
