package io.aneforge.agent.registry;

import java.time.Instant;

/**
 * A lease call failed on the way (a connection reset, a timeout, a body cut short) or was answered by something in
 * front of the registry (a proxy's 5xx without the registry's problem body): the registry may have granted a lease
 * all the same, and the agent knows neither its lease nor its job id. It does know the id it sent with the call
 * ({@link #request()}), which the registry kept with any lease it granted for it, so it can release that lease
 * ({@link RegistryClient#releaseLeaseRequest}) instead of letting it expire, which would spend an attempt.
 *
 * <p>The call may also still be on its way, or still waiting in the registry's long poll, and be granted after a
 * first release arrived (which then finds nothing): {@link #grantWindowEnd()} is when the registry can no longer
 * grant one for it, as far as the agent can tell (the wait it asked for and the request timeout, counted from the
 * failure), and a release sent after it finds any lease that call got.
 */
public final class LeaseAnswerLostException extends RegistryException {

    private final String request;
    private final Instant grantWindowEnd;
    private final transient Runnable onReleaseKept;

    public LeaseAnswerLostException(RegistryException lost, String request, Instant grantWindowEnd) {
        this(lost, request, grantWindowEnd, () -> { });
    }

    /**
     * @param onReleaseKept what {@link #releaseKept()} does: drop the call's note in the instance slot
     *     ({@link LeaseCallLog#releaseKept})
     */
    public LeaseAnswerLostException(RegistryException lost, String request, Instant grantWindowEnd,
            Runnable onReleaseKept) {
        super(lost.getMessage(), lost.status(), lost.problem(), true, lost);
        this.request = request;
        this.grantWindowEnd = grantWindowEnd;
        this.onReleaseKept = onReleaseKept;
    }

    /**
     * The loop kept the release of {@link #request()} in the cache directory, to be sent until the registry answers it
     * (also by the next process on the directory): the note the client wrote of this call is no longer needed
     * ({@link LeaseCallLog#releaseKept}). Here rather than on the client, so that a client wrapped by another (the
     * liveness file's) passes it on without knowing of it.
     */
    public void releaseKept() {
        onReleaseKept.run();
    }

    /** The id this agent sent with the lease call ({@code ?request=}). */
    public String request() {
        return request;
    }

    /** After this the registry cannot grant a lease for {@link #request()} any more. */
    public Instant grantWindowEnd() {
        return grantWindowEnd;
    }
}
