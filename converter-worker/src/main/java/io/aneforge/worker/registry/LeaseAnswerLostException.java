package io.aneforge.worker.registry;

import java.time.Instant;

/**
 * A lease call failed on the way (a connection reset, a timeout, a body cut short) or was answered by something in
 * front of the registry (a proxy's 5xx without the registry's problem body): the registry may have granted a lease
 * all the same, whose token this worker never learns. It knows the id it sent with the call ({@link #request()}),
 * which the registry kept with any lease it granted for it, so it can release that lease
 * ({@link RegistryClient#releaseLeaseRequest}) instead of letting it run out, which would spend an attempt.
 *
 * <p>The call may also still be on its way (held by a proxy, queued in front of a busy registry) and be granted
 * after a first release arrived, which then finds nothing: {@link #grantWindowEnd()} is when the registry can no
 * longer grant one for it as far as the worker can tell (the request timeout after the failure; a conversion lease
 * call does not wait for work), and a release sent after it finds any lease that call got.
 */
public final class LeaseAnswerLostException extends RegistryException {

    private final String request;
    private final Instant grantWindowEnd;
    private final boolean transientFailure;

    public LeaseAnswerLostException(RegistryException lost, String request, Instant grantWindowEnd) {
        super(lost.getMessage(), lost.status(), lost.problem(), lost);
        this.request = request;
        this.grantWindowEnd = grantWindowEnd;
        // The lost call's own verdict: the cause here is that exception, not the IOException it wraps.
        this.transientFailure = lost.isTransient();
    }

    /** As the lost call's failure: a transport failure or a 502/503/504 is transient, another proxy 5xx is not. */
    @Override
    public boolean isTransient() {
        return transientFailure;
    }

    /** The id this worker sent with the lease call (body field {@code request}). */
    public String request() {
        return request;
    }

    /** After this the registry cannot grant a lease for {@link #request()} any more. */
    public Instant grantWindowEnd() {
        return grantWindowEnd;
    }
}
