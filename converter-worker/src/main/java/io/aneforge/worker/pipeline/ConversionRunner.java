package io.aneforge.worker.pipeline;

import io.aneforge.worker.WorkerProperties;
import io.aneforge.worker.lease.Leases;
import io.aneforge.worker.registry.LeaseAnswerLostException;
import io.aneforge.worker.registry.RegistryClient;
import io.aneforge.worker.registry.RegistryException;
import io.aneforge.worker.registry.UnreadableLeaseException;
import io.aneforge.worker.registry.RegistryModels.Lease;
import io.aneforge.worker.workdir.WorkDirs;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.job.parameters.JobParametersBuilder;
import org.springframework.batch.core.launch.JobOperator;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.LivenessState;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * The worker's loop: first delete the work directories stopped workers left ({@link WorkDirs#sweep}) and
 * recover the executions a killed process left {@code STARTED} (re-lease each under this worker's id,
 * {@link JobOperator#recover}, restart: completed partitions are kept), then lease conversions one after
 * another and run one job per conversion.
 *
 * <p>Each job ends its lease here, after Spring Batch has recorded the execution: a job that asked for it
 * (the worker is stopping, the registry stayed unreachable) hands the lease back, so the conversion is leased
 * again at once, by this or another worker, and its FAILED execution restarts.
 *
 * <p>Nothing restarts the loop's thread, so it survives whatever a registry answer or the job repository
 * throws (logged, tried again after the poll interval). If it dies anyway (an {@link Error}), liveness goes
 * {@link LivenessState#BROKEN} so that the orchestrator restarts the worker instead of it idling as UP.
 */
@Component
public class ConversionRunner implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(ConversionRunner.class);
    private static final Set<BatchStatus> RUNNING = Set.of(BatchStatus.STARTING, BatchStatus.STARTED, BatchStatus.STOPPING,
            BatchStatus.UNKNOWN);

    private static final Duration STOP_WAIT = Duration.ofSeconds(20);
    /** Part of {@link #STOP_WAIT}: interrupted partitions record themselves before the lease is handed back. */
    private static final Duration PARTITIONS_STOP_WAIT = Duration.ofSeconds(5);

    private final JobOperator operator;
    private final JobRepository repository;
    private final Job job;
    private final RegistryClient registry;
    private final Leases leases;
    private final WorkerProperties props;
    private final MeterRegistry meters;
    private final ApplicationEventPublisher events;
    private final WorkDirs workDirs;
    private final VariantPool variants;
    private final RegistryHealth registryHealth;
    private volatile boolean running;
    private Thread loop;

    ConversionRunner(JobOperator operator, JobRepository repository, Job conversionJob, RegistryClient registry, Leases leases,
                     WorkerProperties props, MeterRegistry meters, ApplicationEventPublisher events, WorkDirs workDirs,
                     VariantPool variants) {
        this.workDirs = workDirs;
        this.variants = variants;
        this.operator = operator;
        this.repository = repository;
        this.job = conversionJob;
        this.registry = registry;
        this.leases = leases;
        this.props = props;
        this.meters = meters;
        this.events = events;
        this.registryHealth = new RegistryHealth(props.registryUrl(), Clock.systemUTC());
    }

    /** The last lease call's outcome: the {@code registry} health indicator (readiness group). */
    RegistryHealth registryHealth() {
        return registryHealth;
    }

    @EventListener(ApplicationReadyEvent.class)
    void ready() {
        loop = new Thread(this::run, "conversion-runner");
        loop.start();
    }

    private void run() {
        try {
            poll();
        } catch (Throwable e) {
            log.error("conversion runner died: liveness is now BROKEN", e);
            AvailabilityChangeEvent.publish(events, this, LivenessState.BROKEN);
            throw e;
        }
    }

    private void poll() {
        log.info("worker '{}' polling {} ({} partitions in parallel)", props.id(), props.registryUrl(), props.concurrency());
        try {
            sweep();
            releaseRecorded(); // leases a stopped worker on this work directory could not hand back
            loadLeaseRequests(); // and its releases by lease request: sent before the first lease call below
            while (running) {
                try {
                    recover();
                    break;
                } catch (RuntimeException e) {
                    // The job repository is unreachable (DataAccessException), say: leasing would not help either.
                    log.error("cannot recover interrupted executions; retrying in {}", props.pollInterval(), e);
                    Thread.sleep(props.pollInterval().toMillis());
                }
            }
            while (running && props.poll()) {
                releaseRecorded(); // before leasing: a conversion this worker failed to hand back goes back first
                releaseLeaseRequests();
                Optional<Instant> window = leases.openGrantWindow(Instant.now());
                if (window.isPresent()) {
                    // A lost lease call may still be granted until then: its second release must go out while such
                    // a lease is held, not after a job leased meanwhile (minutes) let it run out. Costs at most the
                    // request timeout of idle polling after a lost answer, which is rare. stop() interrupts this.
                    log.info("not leasing before {}: the lost lease call may still be granted until then, and its"
                            + " release is sent again first", window.get());
                    // Rounded up, so that it wakes after the window closed, not a fraction of a millisecond before.
                    Thread.sleep(Math.max(1, Duration.between(Instant.now(), window.get()).toMillis() + 1));
                    continue;
                }
                Optional<Lease> lease;
                Duration wait = props.pollInterval();
                try {
                    lease = registry.leaseNext(props.id());
                    registryHealth.succeeded();
                } catch (LeaseAnswerLostException e) {
                    releaseLost(e);
                    lease = Optional.empty();
                } catch (RegistryException e) {
                    // Logged (once, then at growing intervals) and reported by the readiness probe; a refused
                    // token also slows polling.
                    wait = registryHealth.failed(e, props.pollInterval());
                    lease = Optional.empty();
                } catch (UnreadableLeaseException e) {
                    releaseUnread(e);
                    lease = Optional.empty();
                } catch (RuntimeException e) {
                    // A 200 answer that does not parse (a proxy's maintenance page): not fatal, try again.
                    log.error("lease answer not understood; retrying in {}", props.pollInterval(), e);
                    lease = Optional.empty();
                }
                if (lease.isPresent()) {
                    sweep(); // another worker on this host may have ended a conversion a killed one had begun
                    if (launch(lease.get()) && running) {
                        // Handed back because the registry was unreachable: give it a moment before leasing again.
                        Thread.sleep(props.pollInterval().toMillis());
                    }
                } else {
                    Thread.sleep(wait.toMillis());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Executions left STARTED by a killed worker: those this worker can (re-)lease are recovered and restarted. */
    void recover() {
        for (JobExecution e : repository.findRunningJobExecutions(ConversionJobConfig.JOB)) {
            long id = e.getJobParameters().getLong(ConversionJobConfig.CONVERSION_ID);
            MDC.put("conversion", Long.toString(id));
            try {
                Lease lease = registry.lease(id, props.id());
                log.info("recovering execution {} left {} (attempt {})", e.getId(), e.getStatus(),
                        lease.conversion().attempts());
                meters.counter("aneforge.worker.recoveries").increment();
                launch(lease);
            } catch (LeaseAnswerLostException ex) {
                releaseLost(ex); // once the lease is released (or runs out), leaseNext hands the conversion out again
            } catch (RegistryException ex) {
                // Held by another live worker (its execution is genuinely running), or finished: leave it.
                log.info("not recovering execution {}: {}", e.getId(), ex.getMessage());
            } catch (UnreadableLeaseException ex) {
                releaseUnread(ex);
            } catch (RuntimeException ex) {
                // An answer that does not parse: once the lease expires, leaseNext hands the conversion to
                // a worker, and launch recovers the execution then.
                log.error("not recovering execution {}", e.getId(), ex);
            } finally {
                MDC.remove("conversion");
            }
        }
    }

    /**
     * A lease answer this worker cannot read (a proxy's maintenance page): the registry may have granted a lease all
     * the same. It is released by the request id this worker sent with the call (the answer names no token), so it
     * does not run out and spend an attempt; the worker tries leasing again after the poll interval. The answer
     * arrived, so the registry's call is over: the release is not sent again after a window, only retried if it fails.
     */
    private void releaseUnread(UnreadableLeaseException e) {
        log.error("lease answer not understood; releasing the lease granted for that call, if any, and retrying in {}",
                props.pollInterval(), e);
        leases.releaseLeaseRequest(e.request(), "worker '" + props.id() + "' could not read the lease answer: "
                + e.getMessage(), Instant.now());
    }

    /**
     * A lease call without an answer (a reset, a timeout, a body cut short, a proxy's 5xx): the registry may have
     * granted a lease, now or, while the call is still on its way, later. Released by the call's request id now and,
     * if the registry holds none for it yet, once more after the call's grant window.
     */
    private void releaseLost(LeaseAnswerLostException e) {
        log.warn("lease call failed: {}; releasing the lease the registry may have granted for it (request {}), now and,"
                + " if it holds none yet, again at {}", e.getMessage(), e.request(), e.grantWindowEnd());
        leases.releaseLeaseRequest(e.request(), "worker '" + props.id() + "' lost the answer to its lease call: "
                + e.getMessage(), e.grantWindowEnd());
    }

    private void releaseLeaseRequests() {
        try {
            leases.releaseLeaseRequests();
        } catch (RuntimeException e) {
            log.warn("cannot send the releases by lease request: {}", e.toString());
        }
    }

    private void loadLeaseRequests() {
        try {
            leases.loadLeaseRequests();
        } catch (RuntimeException e) {
            log.warn("cannot read the recorded releases by lease request: {}", e.toString());
        }
    }

    private void releaseRecorded() {
        try {
            leases.releaseRecorded();
        } catch (RuntimeException e) {
            log.warn("cannot send the recorded releases: {}", e.toString());
        }
    }

    private void sweep() {
        try {
            workDirs.sweep();
        } catch (RuntimeException e) {
            log.warn("cannot clean up the work directory: {}", e.getMessage());
        }
    }

    /** Runs (or continues) the conversion's job instance under a fresh lease; returns whether the lease was handed back. */
    boolean launch(Lease lease) {
        long id = lease.conversion().id();
        MDC.put("conversion", Long.toString(id));
        leases.hold(lease);
        try {
            try {
                run(id, lease);
            } catch (RegistryException e) {
                log.error("could not run the job: {}", e.getMessage());
                if (e.isTransient()) leases.handBackWhenDone(id, "the registry stayed unreachable: " + e.getMessage(), !running);
            } catch (Exception e) {
                // Not the conversion's fault (the job repository, the work directory): let it be leased again
                // rather than wait out the lease.
                log.error("could not run the job", e);
                leases.handBackWhenDone(id, "the worker could not run the job: " + e.getMessage(), !running);
            }
            if (!running) variants.stop(PARTITIONS_STOP_WAIT); // stopping: partitions record themselves, then the lease goes
            return leases.end(id);
        } finally {
            try {
                workDirs.release(id);
            } catch (RuntimeException e) {
                log.warn("cannot delete the work directory: {}", e.getMessage());
            }
            MDC.remove("conversion");
        }
    }

    private void run(long id, Lease lease) throws Exception {
        workDirs.claim(id);
        JobParameters params = new JobParametersBuilder().addLong(ConversionJobConfig.CONVERSION_ID, id).toJobParameters();
        JobExecution last = repository.getLastJobExecution(ConversionJobConfig.JOB, params);
        JobExecution result;
        if (last == null) {
            result = operator.start(job, params);
        } else if (last.getStatus() == BatchStatus.COMPLETED) {
            log.info("job already completed; finishing in the registry");
            registry.complete(id, lease.leaseToken());
            leases.finished(id);
            return;
        } else {
            if (RUNNING.contains(last.getStatus())
                    || last.getStepExecutions().stream().anyMatch(s -> s.getStatus().isRunning())) {
                // The process that ran it is gone (killed, or stopped while a partition was still running):
                // mark it and its steps failed so it can restart.
                last = operator.recover(last);
            }
            log.info("restarting execution {} ({})", last.getId(), last.getStatus());
            result = operator.restart(last);
        }
        meters.counter("aneforge.worker.conversions", "status", result.getStatus().name().toLowerCase()).increment();
        log.info("job finished: {}", result.getStatus());
    }

    @Override
    public void start() {
        running = true;
    }

    @Override
    public void stop() {
        running = false;
        if (loop != null) {
            loop.interrupt();
            // Let the interrupted job record its execution (restartable) before the job repository closes.
            try {
                loop.join(STOP_WAIT.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
