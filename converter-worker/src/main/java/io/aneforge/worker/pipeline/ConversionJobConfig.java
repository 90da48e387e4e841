package io.aneforge.worker.pipeline;

import io.aneforge.worker.WorkerProperties;
import io.aneforge.worker.lease.LeaseLostException;
import io.aneforge.worker.lease.Leases;
import io.aneforge.worker.registry.RegistryException;
import java.io.InterruptedIOException;
import java.nio.channels.ClosedByInterruptException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.configuration.annotation.StepScope;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.listener.JobExecutionListener;
import org.springframework.batch.core.partition.Partitioner;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.Step;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.batch.core.step.tasklet.Tasklet;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.batch.infrastructure.repeat.RepeatStatus;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * The conversion job: fetch → import → golden → variants (partitioned, one partition per build: the
 * variants that differ only in the chip share one package, {@code VariantSpec.buildId()};
 * {@code ANEFORGE_WORKER_CONCURRENCY} at a time) → finish. Its one identifying parameter is the conversion
 * id, so a restart continues the same job instance, and Spring Batch re-runs only the partitions that did not
 * complete. Execution contexts hold only keys: the snapshot path, the commit, the golden digest, and per
 * partition the build id.
 */
@Configuration
public class ConversionJobConfig {

    public static final String JOB = "conversion";
    public static final String CONVERSION_ID = "conversionId";
    static final String SNAPSHOT_DIR = "snapshotDir", COMMIT = "commit", GOLDEN = "goldenDigest", BUILD_ID = "buildId";

    private static final Logger log = LoggerFactory.getLogger(ConversionJobConfig.class);

    /**
     * Health component {@code registry}: the last lease call's outcome, in the readiness group (application.yml),
     * so a worker the registry refuses or cannot be reached from reports unready.
     */
    @Bean
    HealthIndicator registryHealthIndicator(ConversionRunner runner) {
        return runner.registryHealth();
    }

    @Bean
    Job conversionJob(JobRepository repo, PlatformTransactionManager tx, ConversionSteps steps, Leases leases, Step variantsStep) {
        Step fetch = new StepBuilder("fetch", repo).tasklet(tasklet((id, job, step) -> {
            ConversionSteps.Fetched f = steps.fetch(id);
            job.putString(SNAPSHOT_DIR, f.snapshotDir());
            if (f.commit() != null) job.putString(COMMIT, f.commit());
        }), tx).build();
        Step importStep = new StepBuilder("import", repo).tasklet(tasklet((id, job, step) ->
                steps.importWeights(id, fetched(job))), tx).build();
        Step golden = new StepBuilder("golden", repo).tasklet(tasklet((id, job, step) ->
                job.putString(GOLDEN, steps.golden(id, fetched(job)))), tx).build();
        Step finish = new StepBuilder("finish", repo).tasklet(tasklet((id, job, step) -> steps.finish(id)), tx).build();
        return new JobBuilder(JOB, repo)
                .listener(new Outcome(steps, leases))
                .start(fetch).next(importStep).next(golden).next(variantsStep).next(finish)
                .build();
    }

    @Bean
    Step variantsStep(JobRepository repo, PlatformTransactionManager tx, ConversionSteps steps, Partitioner buildPartitioner,
                      WorkerProperties props, VariantPool pool) {
        Step build = new StepBuilder("build", repo).tasklet(tasklet((id, job, step) ->
                steps.build(id, step.getString(BUILD_ID), fetched(job))), tx).build();
        return new StepBuilder("variants", repo).partitioner("build", buildPartitioner).step(build)
                .gridSize(props.concurrency()).taskExecutor(pool.executor()).build();
    }

    /**
     * One partition per build, not per variant: a partition never waits for another one's package, so none holds a
     * pool thread idle, and a build that fails fails once for all its chips. Spring Batch names its step execution
     * {@code build:<buildId>} (stable across restarts). A job started before builds were partitioned (its
     * partitions were {@code variant:<specId>}) restarts with these names: its registered variants are not built again.
     */
    @Bean
    @StepScope
    Partitioner buildPartitioner(@Value("#{jobParameters['conversionId']}") Long conversionId, ConversionSteps steps) {
        return gridSize -> {
            Map<String, ExecutionContext> parts = new LinkedHashMap<>();
            steps.buildIds(conversionId).forEach(build -> {
                ExecutionContext ctx = new ExecutionContext();
                ctx.putString(BUILD_ID, build);
                parts.put(build, ctx);
            });
            return parts;
        };
    }

    interface StepBody {
        void run(long conversionId, ExecutionContext job, ExecutionContext step) throws Exception;
    }

    private static Tasklet tasklet(StepBody body) {
        return (contribution, chunk) -> {
            StepExecution se = chunk.getStepContext().getStepExecution();
            long id = se.getJobExecution().getJobParameters().getLong(CONVERSION_ID);
            MDC.put("conversion", Long.toString(id));
            try {
                body.run(id, se.getJobExecution().getExecutionContext(), se.getExecutionContext());
                return RepeatStatus.FINISHED;
            } finally {
                MDC.remove("conversion");
            }
        };
    }

    private static ConversionSteps.Fetched fetched(ExecutionContext job) {
        return new ConversionSteps.Fetched(job.getString(SNAPSHOT_DIR), job.containsKey(COMMIT) ? job.getString(COMMIT) : null);
    }

    /**
     * Decides what a failed job means for its conversion: a failure of the conversion is reported to the
     * registry (the version fails); a stopping worker or a registry that stayed unreachable through the
     * retries hands the lease back instead (the conversion is queued again without spending an attempt,
     * and its FAILED execution restarts keeping completed partitions); a lost lease is left alone. The
     * hand-back itself happens in {@link ConversionRunner} once the execution is recorded.
     */
    static final class Outcome implements JobExecutionListener {
        private final ConversionSteps steps;
        private final Leases leases;

        Outcome(ConversionSteps steps, Leases leases) {
            this.steps = steps;
            this.leases = leases;
        }

        @Override
        public void afterJob(JobExecution execution) {
            long id = execution.getJobParameters().getLong(CONVERSION_ID);
            MDC.put("conversion", Long.toString(id));
            try {
                if (execution.getStatus() == BatchStatus.FAILED) {
                    StepExecution failed = execution.getStepExecutions().stream()
                            .filter(s -> s.getStatus() == BatchStatus.FAILED && !s.getStepName().equals("variants")
                                    && !s.getFailureExceptions().isEmpty())
                            .findFirst().orElse(null);
                    Throwable cause = failed != null ? failed.getFailureExceptions().get(0)
                            : execution.getAllFailureExceptions().stream().findFirst().orElse(null);
                    boolean leaseLost = execution.getAllFailureExceptions().stream().anyMatch(Outcome::leaseLost);
                    if (leaseLost) {
                        log.warn("stopped: the lease is gone");
                    } else if (interrupted(execution)) {
                        // The worker is shutting down (SIGTERM, Ctrl-C): not a failure of the conversion.
                        log.warn("stopped: the worker is shutting down; the conversion is handed back to be resumed");
                        leases.handBackWhenDone(id, "the worker is shutting down", true);
                    } else if (registryUnreachable(execution)) {
                        String reason = "the registry stayed unreachable: " + (cause == null ? "" : describe(cause));
                        log.warn("stopped: {}", reason);
                        leases.handBackWhenDone(id, reason, false);
                    } else {
                        // a build partition's failure names its build and chips itself (ConversionSteps.BuildFailure)
                        String reason = (failed == null ? "conversion"
                                : failed.getStepName().startsWith("build:") ? "variants" : failed.getStepName()) + ": "
                                + (cause == null ? "unknown error" : describe(cause));
                        log.error("conversion failed: {}", reason, cause);
                        try {
                            steps.fail(id, reason);
                        } catch (RuntimeException e) {
                            log.warn("could not report the failure (the lease will expire and the conversion be retried): {}",
                                    e.getMessage());
                        }
                    }
                }
                leases.stopHeartbeat(id);
                steps.cleanUp(id);
            } finally {
                MDC.remove("conversion");
            }
        }

        /**
         * Every failure of the job is a registry call that failed transiently after its retries (connection
         * refused or reset, timeouts, 429/502/503/504): the conversion is not at fault. The partitioned step's
         * own failure only says that a partition failed, so it does not count.
         */
        static boolean registryUnreachable(JobExecution execution) {
            List<Throwable> causes = execution.getStepExecutions().stream()
                    .filter(s -> !s.getStepName().equals("variants"))
                    .flatMap(s -> s.getFailureExceptions().stream()).toList();
            if (causes.isEmpty()) causes = execution.getAllFailureExceptions();
            return !causes.isEmpty() && causes.stream().allMatch(Outcome::transientRegistryFailure);
        }

        private static boolean leaseLost(Throwable t) {
            for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
                if (c instanceof LeaseLostException) return true;
            }
            return false;
        }

        private static boolean transientRegistryFailure(Throwable t) {
            for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
                if (c instanceof RegistryException r) return r.isTransient();
            }
            return false;
        }

        /** An interrupt ends a step only when the worker shuts down (the runner interrupts its loop). */
        static boolean interrupted(JobExecution execution) {
            if (Thread.currentThread().isInterrupted()) return true;
            for (Throwable t : execution.getAllFailureExceptions()) {
                for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
                    if (c instanceof InterruptedException || c instanceof InterruptedIOException
                            || c instanceof ClosedByInterruptException) return true;
                }
            }
            return false;
        }

        private static String describe(Throwable t) {
            StringBuilder b = new StringBuilder(t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage());
            Throwable c = t.getCause();
            if (c != null && c.getMessage() != null && !b.toString().contains(c.getMessage())) b.append(" (").append(c.getMessage()).append(')');
            return b.toString();
        }
    }
}
