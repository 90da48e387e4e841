package io.aneforge.worker.registry;

/**
 * What the registry did with a lease this worker handed back. The registry counts hand-backs for trouble that is not
 * the conversion's own per conversion and worker (so a worker restart does not start the count over) and, past its
 * {@code aneforge.conversions.max-hand-backs}, fails the conversion instead of taking it back.
 *
 * @param conversionId the conversion handed back, or null when a release by lease request found no lease
 * @param outcome {@code released} (queued again), {@code failed} (the registry failed the conversion: {@code failure}
 *     says why) or {@code none} (nothing was held for the lease request)
 * @param failure the registry's reason when it failed the conversion, else null
 * @param counted whether the registry counts hand-backs: false for a registry before V14, which answers a release 204
 *     and a release by request without an {@code outcome}; the worker then bounds the hand-backs itself
 */
public record HandBack(Long conversionId, String outcome, String failure, boolean counted) {

    public static final String RELEASED = "released", FAILED = "failed", NONE = "none";

    public boolean failed() {
        return FAILED.equals(outcome);
    }

    /** Nothing was held for the lease request: nothing was released. */
    public boolean none() {
        return NONE.equals(outcome);
    }
}
