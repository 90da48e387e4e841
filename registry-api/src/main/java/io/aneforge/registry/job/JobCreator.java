package io.aneforge.registry.job;

import io.aneforge.registry.model.Models;
import io.aneforge.registry.problem.ApiProblem;
import io.aneforge.registry.variant.VariantRegistered;
import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.List;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Queues a variant's jobs as it is registered (same transaction): one Core ML benchmark per
 * compute-unit setting on agents of the variant's chip, and one accuracy job for any agent
 * offering the reference CPU runtime.
 */
@Component
class JobCreator {

    /** Core ML's MLComputeUnits, by their API names; the default set to benchmark. */
    static final List<String> COMPUTE_UNITS = List.of("cpuOnly", "cpuAndGPU", "cpuAndNeuralEngine", "all");
    /** The setting accuracy jobs run with (the reference runtime computes on the CPU). */
    static final String ACCURACY_UNITS = "cpuOnly";

    private final JobRepository jobs;
    private final JobProperties props;
    private final LeaseSignal signal;
    private final Models models;
    private final Clock clock = Clock.systemUTC();

    JobCreator(JobRepository jobs, JobProperties props, LeaseSignal signal, Models models) {
        this.jobs = jobs;
        this.models = models;
        this.props = props;
        this.signal = signal;
    }

    @EventListener
    void onVariant(VariantRegistered e) {
        List<String> units = e.computeUnits() == null ? COMPUTE_UNITS : validate(e.computeUnits());
        Models.GoldenData golden = models.golden(e.versionId());
        boolean ready = golden.stored();
        int format = golden.format();
        for (String cu : units) {
            jobs.save(new Job(e.variantId(), Job.BENCHMARK, Runtimes.COREML, e.chip(), cu, ready, format, props.maxAttempts(),
                    clock.instant()));
        }
        jobs.save(new Job(e.variantId(), Job.ACCURACY, Runtimes.REFERENCE_CPU, null, ACCURACY_UNITS, ready, format,
                props.maxAttempts(), clock.instant()));
        jobs.flush();
        signal.afterCommit();
    }

    private static List<String> validate(List<String> units) {
        if (units.isEmpty()) {
            throw ApiProblem.badRequest("invalid-variant", "Invalid variant",
                    "computeUnits must not be empty; omit it to benchmark all of " + COMPUTE_UNITS);
        }
        for (String u : units) {
            if (!COMPUTE_UNITS.contains(u)) {
                throw ApiProblem.badRequest("invalid-variant", "Invalid variant",
                        "computeUnits entry '" + u + "' must be one of " + COMPUTE_UNITS);
            }
        }
        return List.copyOf(new LinkedHashSet<>(units));
    }
}
