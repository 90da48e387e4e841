package io.aneforge.agent.registry;

import java.util.Optional;

/**
 * The registry answered a lease call with a job this agent cannot read (a proxy's HTML page, a job kind it does
 * not know, a field missing). The registry has leased the job to this agent all the same, so when the answer's
 * {@code leaseId} and {@code jobId} could still be read they are here, for the agent to release the lease
 * instead of leaving the job leased until it expires (which spends one of its attempts).
 */
public final class UnreadableLeaseException extends RuntimeException {

    private final String leaseId;
    private final String jobId;

    public UnreadableLeaseException(String message, String leaseId, String jobId, Throwable cause) {
        super(message, cause);
        this.leaseId = leaseId;
        this.jobId = jobId;
    }

    public Optional<String> leaseId() {
        return Optional.ofNullable(leaseId);
    }

    public Optional<String> jobId() {
        return Optional.ofNullable(jobId);
    }
}
