package io.aneforge.agent.registry;

/**
 * What the registry did with a lease this agent handed back. The registry counts hand-backs for trouble that is
 * not the job's own per job and agent (so an agent restart does not start the count over) and, past its
 * {@code aneforge.jobs.max-hand-backs}, fails the job instead of taking it back.
 *
 * @param jobId the job handed back, or null when a release by lease request found no lease
 * @param outcome {@code released} (queued again, no attempt spent), {@code failed} (the registry failed the job:
 *     {@code failure} says why) or {@code none} (nothing was held for the lease request)
 * @param failure the registry's reason when it failed the job, else null
 * @param counted whether the registry counted the hand-back: false when it answered 204 without a body, as a
 *     registry before V13 (no {@code job_hand_back}) does; it ignores {@code trouble}, so the agent has to bound
 *     the hand-backs of a job itself
 */
public record HandBack(String jobId, String outcome, String failure, boolean counted) {

    public static final String RELEASED = "released", FAILED = "failed", NONE = "none";

    /** An answer of a registry that counts hand-backs (200 with a body). */
    public HandBack(String jobId, String outcome, String failure) {
        this(jobId, outcome, failure, true);
    }

    /** A registry before V13: 204, released, nothing counted. */
    public static HandBack uncounted(String jobId) {
        return new HandBack(jobId, RELEASED, null, false);
    }

    public boolean failed() {
        return FAILED.equals(outcome);
    }

    /** Nothing was held for the lease request: nothing was released. */
    public boolean none() {
        return NONE.equals(outcome);
    }
}
