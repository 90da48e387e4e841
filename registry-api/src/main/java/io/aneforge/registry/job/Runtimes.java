package io.aneforge.registry.job;

import java.util.List;

/**
 * The runtime ids the registry queues jobs for ({@link JobCreator}): the one list of them, so that agent
 * registration refuses an id no job will ever ask for (a typo would otherwise register an agent that idles).
 */
public final class Runtimes {

    /** Core ML on an Apple device: the benchmark jobs, one per compute-unit setting, on the variant's chip. */
    public static final String COREML = "coreml";
    /** The reference CPU runtime: the accuracy jobs, on any chip. */
    public static final String REFERENCE_CPU = "reference-cpu";
    /** Every id above, in the order the docs list them. */
    public static final List<String> KNOWN = List.of(COREML, REFERENCE_CPU);

    private Runtimes() {}
}
