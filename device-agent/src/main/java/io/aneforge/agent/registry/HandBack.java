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
 */
public record HandBack(String jobId, String outcome, String failure) {

    public static final String RELEASED = "released", FAILED = "failed", NONE = "none";

    public boolean failed() {
        return FAILED.equals(outcome);
    }
}
