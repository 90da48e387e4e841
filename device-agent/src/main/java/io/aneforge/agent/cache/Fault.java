package io.aneforge.agent.cache;

/**
 * Whose fault it is that a job's input (artifact or golden blob) could not be had, which decides what the agent
 * does with the job: only {@link #ARTIFACT} is a verdict on the job; the others release it for a later try.
 */
public enum Fault {
    /**
     * The input itself is bad, and fetching it again will not change that: an invalid or unsafe archive, a blob whose
     * bytes hash to another digest twice in a row, a blob the registry does not have (404/410), golden data that
     * does not decode. The job fails (final).
     */
    ARTIFACT,
    /**
     * Getting the bytes failed on the way: connection refused or reset, a timeout, a 5xx/429 (or any other
     * unexpected status), a body cut short. Worth another try later.
     */
    TRANSFER,
    /**
     * This host cannot hold or unpack it: disk full, a cache directory it cannot write. Another host may run the
     * job, and this one should stop taking jobs until it is fixed.
     */
    HOST
}
