package io.aneforge.agent.cache;

import java.util.Objects;

/**
 * An artifact could not be fetched, verified, unpacked or stored; the message names the artifact and the rule,
 * {@link #fault()} says whether that is the artifact's fault (final) or the transfer's or this host's (try later).
 */
public class ArtifactCacheException extends RuntimeException {

    private final Fault fault;

    public ArtifactCacheException(Fault fault, String message) {
        this(fault, message, null);
    }

    public ArtifactCacheException(Fault fault, String message, Throwable cause) {
        super(message, cause);
        this.fault = Objects.requireNonNull(fault, "fault");
    }

    public Fault fault() {
        return fault;
    }
}
