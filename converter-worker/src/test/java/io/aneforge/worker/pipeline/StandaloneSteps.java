package io.aneforge.worker.pipeline;

import io.aneforge.worker.lease.Leases;
import io.aneforge.worker.registry.RegistryClient;
import io.aneforge.worker.workdir.WorkDirs;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The conversion steps without a Spring context, for tests outside this package that drive them against the real
 * registry themselves (the steps' constructor and {@link ModelCache} are package-private, as Spring wires them). No
 * Hub client and no local roots: the caller passes the snapshot directory the fetch step would have opened.
 */
public final class StandaloneSteps {

    private StandaloneSteps() {}

    public static ConversionSteps of(RegistryClient registry, Leases leases, MeterRegistry meters, WorkDirs workDirs) {
        return new ConversionSteps(registry, leases, new ModelCache(), meters, null, workDirs, null);
    }
}
