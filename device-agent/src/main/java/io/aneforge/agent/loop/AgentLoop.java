package io.aneforge.agent.loop;

import io.aneforge.agent.host.HostFacts;
import io.aneforge.agent.registry.AgentRegistration;
import io.aneforge.agent.registry.HandBack;
import io.aneforge.agent.registry.HeartbeatAck;
import io.aneforge.agent.registry.JobLease;
import io.aneforge.agent.registry.JobReport;
import io.aneforge.agent.registry.LeaseAnswerLostException;
import io.aneforge.agent.registry.LeaseLostException;
import io.aneforge.agent.registry.RegistryClient;
import io.aneforge.agent.registry.RegistryException;
import io.aneforge.agent.registry.UnansweredLeaseCall;
import io.aneforge.agent.registry.UnreadableLeaseException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's work loop: register → (heartbeat on a schedule) → lease → execute → report, one job
 * at a time.
 *
 * <ul>
 *   <li>Registry outages: every call that fails retryably is retried after {@code backoff}; a
 *       report is retried until its lease would have expired (after that another agent owns the job).
 *   <li>A refused registration (401 bad token, 409 {@code host-owned-by-another-token}): logged once at ERROR
 *       with the registry's detail, then retried quietly at a slow pace ({@link #MAX_REFUSED_PAUSE}) until someone
 *       fixes it. {@link #registrationRefused()} says why meanwhile; the agent has no web server, so for an operator
 *       the ERROR line is the signal.
 *   <li>Lost leases: when a heartbeat says the lease in hand was taken back (it expired), the job's
 *       thread is interrupted and nothing is reported.
 *   <li>Stuck runtime calls: when {@link JobExecutor#overrunningCall()} names a call that ran past its bound, the
 *       heartbeat thread gives the job up ({@link #giveUpStuck}): reported failed naming the call and the bound, the
 *       lease no longer extended, the job's thread interrupted; what the call returns later is not reported. If the
 *       call is still stuck a grace period later, {@link #onStillStuck} is told (the application exits non-zero, so
 *       its supervisor starts a fresh agent: launchd has no liveness probe, and heartbeats would keep a wedged agent
 *       looking online for ever).
 *   <li>Refused reports: a report the registry refuses with a 4xx other than {@code lease-not-held}
 *       (say {@code 400 invalid-result}) is replaced by a failed report naming the refusal; if that is
 *       refused too, the lease is released. Either way the job does not sit leased until it expires.
 *   <li>Trouble that is not the job's own ({@link TransientJobException}: a download that timed out, was
 *       cut short or got a 5xx; a full disk) releases the job (the registry spends no attempt on a release)
 *       and pauses before the next lease, longer each time in a row ({@code backoff} doubled up to
 *       {@link #MAX_PAUSE} or 64 × {@code backoff}, whichever is less). Host trouble also stops leasing until
 *       {@link JobExecutor#hostProblem()} reports the host fixed, checked after each pause and logged
 *       ({@link #hostTrouble()}). Such a release says {@code trouble}: the registry counts those per job and
 *       agent (in its database, so a restart of this agent does not start the count over) and past its
 *       {@code aneforge.jobs.max-hand-backs} fails the job with the reason instead of taking it back: releases
 *       never spend attempts, so without this bound a permanent problem would hand the same (oldest) job back
 *       to this agent for ever. A registry before V13 ignores {@code trouble} and answers a release 204
 *       ({@link HandBack#counted()} false): then the agent counts such hand-backs per job itself, in memory, and
 *       the {@link #MAX_UNCOUNTED_TRIES}th time a job hits trouble on this agent reports it failed with the reason
 *       instead of handing it back.
 *   <li>A lease answer that does not parse (even an HTML page naming no lease): the lease the registry granted
 *       for this call is released by the id the agent sent with the call ({@link
 *       RegistryClient#releaseLeaseRequest}), counted like trouble; it does not wait out its expiry, which would
 *       spend an attempt.
 *   <li>A lease call that got no answer (a reset, a timeout, a body cut short) or a proxy's 5xx
 *       ({@link LeaseAnswerLostException}): the registry may have leased a job all the same, or still may while the
 *       call is on its way or in its long poll. The lease granted for that call is released by its request id at once
 *       and, if the registry holds none yet, once more after the call's grant window ({@link LeaseRequestReleases}):
 *       the loop leases again only after that window closed, so the second release comes first. Anything else
 *       unexpected (an {@link Error} from a job) is logged
 *       and retried or reported as the job's failure; the loop goes on. Only a {@link VirtualMachineError}
 *       (out of memory, ...) ends it, after reporting the job, through {@link #onCrash}: the JVM is no
 *       longer trustworthy, a fresh process is.
 *   <li>{@link #drain(Duration)} (SIGTERM): tells the registry it is draining, takes no new job, lets
 *       the job in hand finish within the timeout or releases it back to the queue, then stops. A lease call waiting
 *       in its long poll is cut short at once (and its lease, if one was granted, released by request id), so an
 *       idle agent stops without waiting out the poll.
 *   <li>A release that does not get through (the registry unreachable, a 5xx, an answer it cannot read, a 401/403
 *       after a token rotation), of a lease in hand or by request, is written to the cache directory
 *       ({@link UnsentReleases}) and sent again before each lease call, also by the next agent started on that
 *       directory before it registers: a restart while the registry is unreachable does not leave the lease to
 *       expire (an attempt spent), and a drain's release is not taken for a crash's by the registration's hand-back
 *       (counted). A release without trouble that still does not get through then holds the registration up, tried
 *       again after a doubling pause until it does or its lease would have expired ({@link #register}). A
 *       {@code lease-not-held} answer (or a 400/404/409) drops it: the lease is gone.
 *   <li>The lease call the previous process on this agent's instance slot left unanswered ({@link #releaseFirst}) is
 *       released by request before registering, without trouble: the lease the registry granted to the long poll of a
 *       process that died is handed back at once, or never granted if the poll still waits.
 *   <li>A crash (or {@link #halt()}, which behaves like one) loses at most the job in hand: its lease
 *       expires and the registry gives it to another agent.
 * </ul>
 */
public final class AgentLoop {

    private static final Logger log = LoggerFactory.getLogger(AgentLoop.class);

    /**
     * Against a registry that does not count hand-backs (before V13: a release answered 204), the time a job hits
     * trouble on this agent at which it is reported failed rather than handed back again.
     */
    public static final int MAX_UNCOUNTED_TRIES = 3;
    private static final int TRIES_REMEMBERED = 1000;
    /** The longest pause after trouble in a row. */
    public static final Duration MAX_PAUSE = Duration.ofMinutes(5);
    /** The longest pause between tries of a registration the registry refused (a bad token, a host owned by another). */
    public static final Duration MAX_REFUSED_PAUSE = Duration.ofMinutes(1);
    /** The registry's 409 when two registrations of one host meet: the next try settles it, no one has to act. */
    private static final String REGISTRATION_RACE = "agent-registration-race";

    private final RegistryClient client;
    private final HostFacts host;
    private final JobExecutor executor;
    private final Duration leaseWait;
    private final Duration backoff;
    private final Thread thread;
    private final ScheduledExecutorService heartbeats;
    private final CountDownLatch registered = new CountDownLatch(1);
    /** Counted down by drain and halt: ends any pause at once. */
    private final CountDownLatch stopSignal = new CountDownLatch(1);
    /**
     * Hand-backs per job id the registry did not count (loop thread only; the oldest are forgotten). Lost on a
     * restart, unlike the registry's count: only the fallback for a registry before V13.
     */
    private final Map<String, Integer> uncountedHandBacks = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Integer> eldest) {
            return size() > TRIES_REMEMBERED;
        }
    };
    /** Releases by lease request still to be sent (loop thread only), before each lease call. */
    private final LeaseRequestReleases leaseRequestReleases;
    /** Releases not delivered yet, kept in the cache directory across restarts; null: none kept (tests). */
    private final UnsentReleases unsent;
    /** Trouble in a row (loop thread only): sets the length of the next pause. */
    private int troubleStreak;
    /** The host problem this agent waits out before leasing again, or null. */
    private volatile String hostTrouble;
    /** Why the registry refuses to register this agent (logged once), or null. */
    private volatile String registrationRefused;

    private volatile String agentId;
    private volatile boolean stopping;
    private volatile boolean halted;
    /** The lease being executed (null while leasing or reporting). */
    private volatile JobLease executing;
    /** The lease held from lease until report (heartbeats extend it). */
    private volatile JobLease held;
    /**
     * The last lease a heartbeat said the registry took back. An id, not a flag: a heartbeat that named
     * the previous lease can answer after that lease was reported and the next one leased, and must not
     * drop the next one.
     */
    private volatile String lostLeaseId;
    /** The lease call the previous process on this agent's instance slot left unanswered, or null (loop thread). */
    private UnansweredLeaseCall leftBehind;
    /** How long a call given up may stay stuck before {@link #stillStuck} is told; null: never told. */
    private volatile Duration stuckGrace;
    private volatile java.util.function.Consumer<String> stillStuck;
    /** The lease whose stuck call was given up, while it may still return (heartbeat thread only). */
    private JobLease givenUp;
    private Instant givenUpAt;
    /** Guards {@link #inLeaseCall}: drain interrupts the loop thread only while a lease call is on. */
    private final Object leaseCall = new Object();
    /** Whether the loop thread is in a lease call (guarded by {@link #leaseCall}). */
    private boolean inLeaseCall;

    /**
     * @param leaseWait how long one lease call may wait for a job (long poll)
     * @param backoff pause after a failed registry call
     */
    public AgentLoop(RegistryClient client, HostFacts host, JobExecutor executor, Duration leaseWait, Duration backoff) {
        this(client, host, executor, leaseWait, backoff, null);
    }

    /**
     * @param cacheDir the agent's cache directory ({@code aneforge.agent.cache.dir}), where releases not delivered yet
     *     are kept across restarts ({@link UnsentReleases}); null keeps them in memory only (a restart loses them)
     */
    public AgentLoop(RegistryClient client, HostFacts host, JobExecutor executor, Duration leaseWait, Duration backoff,
            java.nio.file.Path cacheDir) {
        this.client = client;
        this.host = host;
        this.executor = executor;
        this.leaseWait = leaseWait;
        this.backoff = backoff;
        this.unsent = cacheDir == null ? null : new UnsentReleases(cacheDir);
        this.leaseRequestReleases = new LeaseRequestReleases(client, backoff, unsent);
        this.thread = new Thread(this::run, "aneforge-agent-" + host.hostName());
        this.heartbeats = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "aneforge-heartbeat-" + host.hostName());
            t.setDaemon(true);
            return t;
        });
    }

    public void start() {
        thread.start();
    }

    /**
     * What to do when the loop thread dies of something it does not survive (a {@link VirtualMachineError}
     * after the job was reported): the application exits non-zero so its supervisor starts a fresh one.
     * Call before {@link #start()}. Without it the error ends the thread (logged by the default handler).
     */
    public AgentLoop onCrash(java.util.function.Consumer<Throwable> handler) {
        thread.setUncaughtExceptionHandler((t, e) -> {
            log.error("agent loop {} died", t.getName(), e);
            handler.accept(e);
        });
        return this;
    }

    /**
     * What to do when a runtime call given up ({@link #giveUpStuck}) is still stuck {@code grace} later: the loop thread
     * will not take another job, yet heartbeats go on, so the registry would list the agent online for ever. The
     * handler gets a line saying which job and call; the application exits non-zero so its supervisor (launchd
     * KeepAlive, compose, Kubernetes) starts a fresh agent. Told at most once per given-up call, from the heartbeat
     * thread, on the first heartbeat past the grace; not while draining or halted. Call before {@link #start()}.
     */
    public AgentLoop onStillStuck(Duration grace, java.util.function.Consumer<String> handler) {
        if (grace == null || grace.isNegative()) {
            throw new IllegalArgumentException("the grace after a stuck call is given up must be >= 0, got " + grace);
        }
        this.stuckGrace = grace;
        this.stillStuck = handler;
        return this;
    }

    /**
     * The lease call the previous agent process on this one's instance slot had out when it ended
     * ({@code AgentInstance#unansweredLeaseCall}): released by request before this agent registers, without trouble
     * (the job never reached an agent), so that a lease granted to the long poll of the ended process is handed back
     * at once, or, if the poll still waits in the registry, is never granted (V15). Call before {@link #start()}.
     */
    public AgentLoop releaseFirst(Optional<UnansweredLeaseCall> call) {
        this.leftBehind = call.orElse(null);
        return this;
    }

    /** The registry's id for this agent, once registered. */
    public String agentId() {
        return agentId;
    }

    /** Waits until the agent is registered. */
    public boolean awaitRegistered(Duration timeout) throws InterruptedException {
        return registered.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public boolean isRunning() {
        return thread.isAlive();
    }

    /**
     * The host problem this agent is waiting out (a full disk, a cache it cannot write) without taking jobs, or
     * empty when it takes jobs: its health. Also logged at every check.
     */
    public Optional<String> hostTrouble() {
        return Optional.ofNullable(hostTrouble);
    }

    /**
     * Why the registry refuses this agent's registration (a bad token, a host owned by another token), with the
     * registry's detail naming the fix, or empty. The agent has no web server or health endpoint: this is for
     * tests and embedders; operators see the ERROR line it is logged with (once per kind of refusal).
     */
    public Optional<String> registrationRefused() {
        return Optional.ofNullable(registrationRefused);
    }

    private void run() {
        takeUpWhatWasLeft();
        AgentRegistration reg = register();
        if (reg == null) {
            return;
        }
        agentId = reg.agentId();
        registered.countDown();
        log.info("agent {} registered as {}; heartbeat every {}", host.hostName(), agentId, reg.heartbeatInterval());
        if (!reg.handedBack().isEmpty()) {
            log.info("the registry handed back job(s) {}, leased to this agent instance before it restarted (no attempt"
                    + " spent)", reg.handedBack());
        }
        if (!reg.failedAtHandBack().isEmpty()) {
            // The registry's failure text gives the count and the last reason only (the restart), not each hand-back.
            log.warn("the registry failed job(s) {} instead of handing them back: this agent instance was restarted while"
                    + " holding them, and this agent had handed each back more often than aneforge.jobs.max-hand-backs"
                    + " allows (restarts and other trouble count alike); each job's failure, in its results, says how many"
                    + " times and the last reason. If running such a job ends this agent (a crash in the runtime, the OOM"
                    + " killer), this agent's log before the restart and the host's crash reports say why",
                    reg.failedAtHandBack());
        }
        long every = reg.heartbeatInterval().toMillis();
        heartbeats.scheduleWithFixedDelay(this::heartbeat, every, every, TimeUnit.MILLISECONDS);
        try {
            while (!stopping && !halted) {
                if (hostTrouble != null && !waitForHealthyHost()) {
                    break;
                }
                releaseKept();
                Optional<Instant> window = leaseRequestReleases.openGrantWindow(Instant.now());
                if (window.isPresent()) {
                    // A lost lease call may still be granted until then: its second release must go out while such a
                    // lease is held, not after a job leased meanwhile (minutes) let it expire. Costs at most the wait
                    // plus the request timeout of idle time after a lost answer, which is rare; drain ends it at once.
                    log.info("not leasing before {}: the lost lease call may still be granted until then, and its"
                            + " release is sent again first", window.get());
                    // Rounded up, so that it wakes after the window closed, not a fraction of a millisecond before.
                    pauseFor(Duration.between(Instant.now(), window.get()).plusMillis(1));
                    continue;
                }
                Optional<JobLease> lease;
                try {
                    lease = leaseUnlessStopping();
                } catch (UnreadableLeaseException e) {
                    if (halted) {
                        break; // a crash tells the registry nothing
                    }
                    unreadable(e);
                    continue;
                } catch (LeaseAnswerLostException e) {
                    if (halted) {
                        break;
                    }
                    // An interrupt (drain) may have ended the call after it went out: a lease may still be granted
                    // for it, so it is released like any lost answer. The stopping flag says what the interrupt
                    // meant; left set, it would fail these releases at once.
                    Thread.interrupted();
                    lostAnswer(e);
                    if (stopping) {
                        break;
                    }
                    pause();
                    continue;
                } catch (RegistryException e) {
                    if (halted || stopping) {
                        break;
                    }
                    log.warn("lease failed ({}); retrying in {}", e.getMessage(), backoff);
                    pause();
                    continue;
                } catch (RuntimeException e) {
                    if (halted || stopping) {
                        break;
                    }
                    log.error("lease call failed unexpectedly; retrying in {}", backoff, e);
                    pause();
                    continue;
                }
                if (lease.isEmpty()) {
                    continue;
                }
                JobLease l = lease.get();
                held = l;
                leaseRequestReleases.leaseLasts(Duration.between(Instant.now(), l.expiresAt()));
                if (stopping) {
                    releaseQuietly(l, "agent " + host.hostName() + " is shutting down");
                    break;
                }
                runAndReport(l);
                held = null;
            }
            if (!halted) {
                Thread.interrupted(); // drain's interrupt must not fail the last releases at once
                releaseRecorded(); // one last try; what does not get through stays for the next agent
                if (leaseRequestReleases.size() > 0) {
                    leaseRequestReleases.releaseAll(this::handedBack);
                }
            }
        } finally {
            heartbeats.shutdownNow();
        }
    }

    /**
     * One lease call, which {@link #drain} may cut short: an idle agent spends nearly all its time in the long poll
     * ({@code leaseWait}), and a stop that waited it out would take that long. Empty without a call when the agent is
     * stopping. The drain's interrupt is sent only while the call is on (both under {@link #leaseCall}), so it cannot
     * land on the releases or the job that follow; it ends the call as a {@link LeaseAnswerLostException} (the
     * registry may have granted a lease before it saw the drain), released by request like any lost answer.
     */
    private Optional<JobLease> leaseUnlessStopping() {
        synchronized (leaseCall) {
            if (stopping) {
                return Optional.empty();
            }
            inLeaseCall = true;
        }
        try {
            return client.lease(agentId, leaseWait);
        } finally {
            synchronized (leaseCall) {
                inLeaseCall = false;
                if (stopping && !halted) {
                    // Whether or not it ended the call, the drain's interrupt is spent: the stopping flag says what it
                    // meant, and left set it would fail the releases that follow at once.
                    Thread.interrupted();
                }
            }
        }
    }

    /**
     * A lease call that got no answer (a reset, a timeout, a body cut short) or a proxy's 5xx: the registry may have
     * leased a job to this agent for it, and may still, while the call is on its way or in its long poll. Released by
     * the call's request id now and, should that find nothing, once more after the call's grant window closed
     * ({@link LeaseRequestReleases}); counted like trouble by the registry. No attempt is spent.
     */
    private void lostAnswer(LeaseAnswerLostException e) {
        if (stopping) {
            // The drain cut the long poll short on purpose: nothing went wrong, so no warning.
            log.info("the drain cut lease call {} short; releasing the lease the registry may have granted for it",
                    e.request());
        } else {
            log.warn("lease call failed ({}); releasing the lease the registry may have granted for it (request {}), now"
                    + " and, if it holds none yet, again at {}; retrying in {}", e.getMessage(), e.request(),
                    e.grantWindowEnd(), backoff);
        }
        Instant now = Instant.now();
        // A call the drain cut short is not trouble: nothing went wrong, and the registry must not count it against
        // the job (it never reached this agent) and this agent.
        String why = stopping ? "agent " + host.hostName() + " shut down during its lease call"
                : "agent " + host.hostName() + " lost the answer to its lease call: " + e.getMessage();
        if (leaseRequestReleases.add(agentId, e.request(), e.grantWindowEnd(), failure(why), 0, now, !stopping)) {
            // Kept in the cache directory until the registry answers it, also for the next process: that covers the
            // call, so its note in the instance slot goes. Otherwise the next process would release it again after
            // every clean stop (a drain always ends the long poll this way) and log an end during a lease call.
            e.releaseKept();
        }
        leaseRequestReleases.releaseDue(now, this::handedBack);
    }

    private void runAndReport(JobLease l) {
        JobReport report;
        VirtualMachineError fatal = null;
        TransientJobException notItsFault = null;
        executing = l;
        try {
            report = executor.execute(l);
        } catch (InterruptedException e) {
            report = null;
        } catch (TransientJobException e) {
            report = null;
            notItsFault = e;
        } catch (Throwable e) {
            // Errors too (a LinkageError from a native framework, OutOfMemoryError on a big golden blob):
            // reported as the job's failure rather than ending the loop with the job still leased.
            log.error("job {} (lease {}) failed", l.jobId(), l.leaseId(), e);
            report = JobReport.failed(l, failure("agent " + host.hostName() + " failed to run job " + l.jobId() + ": " + e));
            if (e instanceof VirtualMachineError vme) {
                fatal = vme;
            }
        } finally {
            executing = null;
            Thread.interrupted(); // an interrupt aimed at the job must not hit the report call
        }
        if (notItsFault != null) {
            defer(l, notItsFault);
            return;
        }
        if (report != null) {
            troubleStreak = 0;
            uncountedHandBacks.remove(l.jobId());
        }
        deliver(l, report);
        if (fatal != null && !halted) {
            throw fatal; // reported; this JVM is not to be trusted with the next job (see onCrash)
        }
    }

    private void deliver(JobLease l, JobReport report) {
        if (halted) {
            return; // a crash reports nothing; the lease expires
        }
        if (report == null || lost(l)) {
            log.warn("job {} (lease {}) abandoned: {}", l.jobId(), l.leaseId(),
                    lost(l) ? "the registry took the lease back" : "interrupted");
            return;
        }
        RegistryException refused = reportUntilExpiry(l, report);
        if (refused == null) {
            return;
        }
        // Refused (400 invalid-result, say): nothing is stored and the lease is still ours. Left alone the
        // job would run on every agent until its attempts ran out and fail as "sent no result", hiding why.
        refused = reportUntilExpiry(l, JobReport.failed(l, failure("agent " + host.hostName() + "'s "
                + report.outcome().name().toLowerCase(java.util.Locale.ROOT) + " report of job " + l.jobId()
                + " was refused by the registry: " + refused.getMessage()
                + (report.failure() == null ? "" : "; the job's failure: " + report.failure()))));
        if (refused != null) {
            releaseQuietly(l, "agent " + host.hostName() + " could not report job " + l.jobId() + ": "
                    + refused.getMessage());
        }
    }

    /**
     * The job could not run for a reason that is not its own: release it for trouble (no attempt spent) and pause.
     * The registry counts such releases per job and agent and, past its bound, fails the job instead.
     */
    private void defer(JobLease l, TransientJobException e) {
        if (halted) {
            return; // a crash reports nothing; the lease expires
        }
        if (lost(l)) {
            log.warn("job {} (lease {}) abandoned: the registry took the lease back", l.jobId(), l.leaseId());
            return;
        }
        troubleStreak++;
        if (e.hostTrouble()) {
            hostTrouble = e.getMessage();
        }
        log.warn("job {} (lease {}) could not run now ({} trouble): {}; releasing it to the queue", l.jobId(), l.leaseId(),
                e.hostTrouble() ? "host" : "transfer", e.getMessage());
        String why = failure("agent " + host.hostName() + ": " + e.getMessage());
        if (!reportedFailedUncounted(l.jobId(), l.leaseId(), e.getMessage())) {
            try {
                handedBack(client.release(agentId, l.jobId(), l.leaseId(), why, true));
            } catch (RuntimeException refused) {
                unsent(l.jobId(), l.leaseId(), why, true, refused);
            }
        }
        Duration p = nextPause();
        log.warn("agent {} pauses {} before taking another job", host.hostName(), p);
        pauseFor(p);
    }

    /**
     * The fallback bound for a registry that does not count hand-backs: when it answered this job's last
     * {@link #MAX_UNCOUNTED_TRIES} - 1 hand-backs without counting them, this trouble is reported as the job's
     * failure (true) instead of handing it back once more. A report the registry refuses is left to the caller's
     * release.
     */
    private boolean reportedFailedUncounted(String jobId, String leaseId, String problem) {
        int tries = uncountedHandBacks.getOrDefault(jobId, 0) + 1;
        if (tries < MAX_UNCOUNTED_TRIES || stopping || halted) {
            return false;
        }
        uncountedHandBacks.remove(jobId);
        String why = failure("agent " + host.hostName() + " could not run job " + jobId + " " + tries
                + " times, each time for a reason that is not the job's own (each time the job went back to the"
                + " queue; this registry does not count hand-backs); the last: " + problem);
        log.error("job {} (lease {}) hit trouble on this agent {} times and the registry does not count hand-backs;"
                + " reporting it failed. The last: {}", jobId, leaseId, tries, problem);
        try {
            client.report(agentId, new JobReport(leaseId, jobId, JobReport.Outcome.FAILED, null, null, Map.of(), why));
            return true;
        } catch (RuntimeException refused) {
            log.warn("could not report job {} failed ({}); releasing it", jobId, refused.getMessage());
            return false;
        }
    }

    private void handedBack(HandBack h) {
        if (!h.counted() && h.jobId() != null) {
            // A registry before V13 ignored "trouble": count this job's hand-backs here instead.
            uncountedHandBacks.merge(h.jobId(), 1, Integer::sum);
        } else if (h.jobId() != null) {
            uncountedHandBacks.remove(h.jobId());
        }
        if (h.failed()) {
            log.error("the registry failed job {} instead of taking it back: {}", h.jobId(), h.failure());
        } else if (HandBack.NONE.equals(h.outcome())) {
            log.info("the registry holds no lease for that lease call");
        } else {
            log.info("released job {} back to the queue (no attempt spent)", h.jobId());
        }
    }

    /**
     * A lease answer this agent cannot read: the registry may have leased a job all the same. Release the lease it
     * granted for this call by the call's request id, which works even when the answer names nothing (an HTML
     * page); by the answer's ids only when that fails or finds no lease for the request ({@code none}: a registry
     * instance on older code did not keep the request id) and they could be read. Counted as trouble by the
     * registry, so a job this agent can never read does not come back to it for ever (by this agent when the
     * registry does not count: {@link #reportedFailedUncounted}).
     */
    private void unreadable(UnreadableLeaseException e) {
        troubleStreak++;
        Duration p = nextPause();
        String jobId = e.jobId().filter(s -> !s.isBlank()).orElse(null);
        String leaseId = e.leaseId().filter(s -> !s.isBlank()).orElse(null);
        String why = failure("agent " + host.hostName() + " could not read the registry's lease answer"
                + (jobId == null ? "" : " for job " + jobId) + ": " + e.getMessage());
        log.error("{}; releasing the lease granted for that call (no attempt spent); next lease in {}", why, p, e);
        boolean released = false;
        boolean requestReleaseFailed = false;
        if (e.request().isPresent()) {
            try {
                HandBack h = client.releaseLeaseRequest(agentId, e.request().get(), why);
                handedBack(h);
                // "none" with ids in hand: the registry kept no request id with the lease (a registry instance on
                // older code ignores ?request=, say during a rolling update), so release by the ids. Without ids
                // "none" means there is nothing to release.
                released = !h.none() || jobId == null || leaseId == null;
            } catch (RuntimeException refused) {
                log.warn("could not release the lease of lease call {} ({})", e.request().get(), refused.getMessage());
                // Kept for another try unless the registry says it never will take it (as LeaseRequestReleases).
                requestReleaseFailed = !(refused instanceof RegistryException r)
                        || (r.status() != 400 && r.status() != 404);
            }
        }
        if (!released && jobId != null && leaseId != null) {
            if (reportedFailedUncounted(jobId, leaseId, "could not read the registry's lease answer: " + e.getMessage())) {
                released = true;
            } else {
                try {
                    handedBack(client.release(agentId, jobId, leaseId, why, true));
                    released = true;
                } catch (RuntimeException refused) {
                    released = unsent(jobId, leaseId, why, true, refused); // kept: sent again before the next lease
                }
            }
        }
        if (!released && requestReleaseFailed) {
            // The answer arrived, so the registry's call is over: no later grant to wait for, only the release to retry.
            Instant now = Instant.now();
            leaseRequestReleases.add(agentId, e.request().get(), now, why, 1, now.plus(backoff));
            log.warn("the release of lease call {} is tried again before the next lease calls", e.request().get());
        } else if (!released) {
            log.error("the lease of that call, if any, could not be released; it expires and spends an attempt");
        }
        pauseFor(p);
    }

    /**
     * Waits out host trouble: asks the executor whether the host is fixed after growing pauses; false when the
     * agent stops meanwhile.
     */
    private boolean waitForHealthyHost() {
        while (!stopping && !halted) {
            Optional<String> problem;
            try {
                problem = executor.hostProblem();
            } catch (RuntimeException e) {
                problem = Optional.of("checking the host failed: " + e);
            }
            if (problem.isEmpty()) {
                log.info("agent {} takes jobs again; the host trouble is over ({})", host.hostName(), hostTrouble);
                hostTrouble = null;
                return true;
            }
            hostTrouble = problem.get();
            troubleStreak++;
            Duration p = nextPause();
            log.warn("agent {} takes no job: {}; checking again in {}", host.hostName(), problem.get(), p);
            pauseFor(p);
        }
        return false;
    }

    /** {@code backoff} doubled per trouble in a row, up to 64 × backoff or {@link #MAX_PAUSE}, whichever is less. */
    private Duration nextPause() {
        int doublings = Math.max(0, Math.min(troubleStreak - 1, 6));
        Duration p = backoff.multipliedBy(1L << doublings);
        return p.compareTo(MAX_PAUSE) > 0 ? (backoff.compareTo(MAX_PAUSE) > 0 ? backoff : MAX_PAUSE) : p;
    }

    /** The registry takes failures of up to 8000 characters (a longer one would be refused). */
    private static String failure(String why) {
        return why.length() <= 8000 ? why : why.substring(0, 7997) + "...";
    }

    private boolean lost(JobLease l) {
        return l.leaseId().equals(lostLeaseId);
    }

    /** Reports until accepted, the lease is lost, or it would have expired: then null. A refusal (4xx) is returned. */
    private RegistryException reportUntilExpiry(JobLease l, JobReport report) {
        while (!halted) {
            try {
                client.report(agentId, report);
                return null;
            } catch (LeaseLostException e) {
                log.warn("report of job {} refused, the lease moved on: {}", l.jobId(), e.getMessage());
                return null;
            } catch (RegistryException e) {
                if (!e.retryable()) {
                    log.error("report of job {} refused: {}", l.jobId(), e.getMessage());
                    return e;
                }
                if (lost(l) || Instant.now().isAfter(l.expiresAt().plus(Duration.ofHours(1)))) {
                    log.warn("giving up reporting job {}: {}", l.jobId(), e.getMessage());
                    return null;
                }
                log.warn("report of job {} failed ({}); retrying in {}", l.jobId(), e.getMessage(), backoff);
                pause();
            } catch (RuntimeException e) {
                // The report could not even be sent (it does not serialise, say): as good as refused.
                log.error("report of job {} could not be sent", l.jobId(), e);
                return new RegistryException("the report could not be sent: " + e, -1, false, e);
            }
        }
        return null;
    }

    private void heartbeat() {
        checkStillStuck();
        JobLease h = held;
        if (h != null && executing == h && !lost(h)) {
            Optional<String> overrun = overrunningCall();
            if (overrun.isPresent()) {
                giveUpStuck(h, overrun.get());
            }
        }
        if (h != null && lost(h)) {
            h = null; // given up or taken back: extending it would only keep another agent from it
        }
        try {
            HeartbeatAck ack = client.heartbeat(agentId, h == null ? List.of() : List.of(h.leaseId()));
            if (h != null && ack.lostLeaseIds().contains(h.leaseId())) {
                lostLeaseId = h.leaseId();
                if (executing == h) {
                    thread.interrupt();
                }
            }
        } catch (RuntimeException e) {
            log.warn("heartbeat failed: {}", e.getMessage());
        }
    }

    /** Tells {@link #stillStuck} when the call given up has not returned within the grace (heartbeat thread). */
    private void checkStillStuck() {
        JobLease g = givenUp;
        if (g == null) {
            return;
        }
        if (executing != g || stopping || halted) {
            givenUp = null; // the call returned (the loop went on), or the agent is stopping anyway
            return;
        }
        Duration grace = stuckGrace;
        java.util.function.Consumer<String> handler = stillStuck;
        if (handler == null || Instant.now().isBefore(givenUpAt.plus(grace))) {
            return;
        }
        givenUp = null;
        String why = "job " + g.jobId() + " (lease " + g.leaseId() + ") was given up "
                + (grace.toMillis() % 1000 == 0 ? grace.toSeconds() + " s" : grace.toMillis() + " ms")
                + " ago (aneforge.agent.stuck-exit-grace) and its runtime call still has not returned: this agent's"
                + " job thread is stuck, so it can take no other job";
        log.error("{}; exiting so that the supervisor starts a fresh agent", why);
        try {
            handler.accept(why);
        } catch (RuntimeException e) {
            log.error("the handler for a stuck agent failed", e);
        }
    }

    private Optional<String> overrunningCall() {
        try {
            return executor.overrunningCall();
        } catch (RuntimeException e) {
            log.warn("could not ask the executor about its runtime call: {}", e.toString());
            return Optional.empty();
        }
    }

    /**
     * The job's runtime call has run past {@code aneforge.agent.max-runtime-call} (from the heartbeat thread, while the
     * loop thread is stuck in it): the lease is no longer extended and whatever the call returns later is not reported
     * ({@link #lostLeaseId}); the job is reported failed naming the call and the bound, if the registry can be reached
     * (the job API has no timeout outcome; the failure text says it); otherwise its lease expires and the registry
     * leases it again. The loop thread is interrupted, which ends a runtime that honours interrupts; one that
     * does not (a native call) keeps the thread, and the liveness file, which is not refreshed meanwhile, gets the
     * agent restarted where something probes it; {@link #onStillStuck} ends the process after a grace everywhere.
     */
    private void giveUpStuck(JobLease l, String overrun) {
        lostLeaseId = l.leaseId();
        log.error("job {} (lease {}) given up: {}. The lease is no longer extended and the liveness file no longer"
                + " refreshed, so a probe restarts this agent unless the call returns (and it exits if the call is still stuck"
                + " after aneforge.agent.stuck-exit-grace)", l.jobId(), l.leaseId(), overrun);
        if (!halted) {
            try {
                client.report(agentId, JobReport.failed(l, failure("agent " + host.hostName() + ": " + overrun)));
                log.error("job {} reported failed: its runtime call did not return in time", l.jobId());
            } catch (RuntimeException e) {
                log.error("could not report job {} failed ({}); its lease expires and the registry leases it again",
                        l.jobId(), e.getMessage());
            }
        }
        if (executing == l) {
            givenUp = l;
            givenUpAt = Instant.now();
            thread.interrupt();
        }
    }

    /**
     * Graceful stop (SIGTERM): take no new job; let the job in hand finish within {@code timeout},
     * else hand it back to the queue; then stop.
     */
    public void drain(Duration timeout) {
        stopping = true;
        stopSignal.countDown();
        String id = agentId;
        if (id != null) {
            try {
                client.drain(id, true);
            } catch (RuntimeException e) {
                log.warn("could not tell the registry that {} is draining: {}", host.hostName(), e.getMessage());
            }
        }
        // An idle agent waits in a long poll: end it now rather than after up to leaseWait (after the drain call, so
        // the registry, which grants no lease to a draining agent, grants none for a call about to be cut short).
        synchronized (leaseCall) {
            if (inLeaseCall) {
                thread.interrupt();
            }
        }
        try {
            JobLease inHand = executing;
            // A job given up (stuck, or taken back) is not waited for: the exit of a stuck agent is not held up by it.
            thread.join(inHand != null && lost(inHand) ? 1 : Math.max(1, timeout.toMillis()));
            JobLease l = executing;
            if (thread.isAlive() && l != null) {
                lostLeaseId = l.leaseId(); // whatever the job produces now is not reported
                releaseQuietly(l, "agent " + host.hostName() + " shut down before job " + l.jobId() + " finished");
                thread.interrupt();
                thread.join(5_000);
            }
            if (thread.isAlive()) {
                thread.interrupt();
                thread.join(leaseWait.toMillis() + 5_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            heartbeats.shutdownNow();
        }
    }

    /** Stops at once without telling the registry anything, like a crash: the lease in hand expires. */
    public void halt() {
        halted = true;
        stopping = true;
        stopSignal.countDown();
        heartbeats.shutdownNow();
        thread.interrupt();
    }

    private void releaseQuietly(JobLease l, String reason) {
        releaseQuietly(l.jobId(), l.leaseId(), reason);
    }

    private void releaseQuietly(String jobId, String leaseId, String reason) {
        try {
            client.release(agentId, jobId, leaseId, reason);
            log.info("released job {} back to the queue: {}", jobId, reason);
        } catch (RuntimeException e) {
            unsent(jobId, leaseId, reason, false, e);
        }
    }

    /**
     * A release of a lease in hand failed: kept (true) in the cache directory when the failure may pass (the registry
     * unreachable, a 5xx, an answer that does not read, a 401/403 after a token rotation), to be sent again before the
     * next lease call, by this process or the next one on that directory. A {@code lease-not-held} (the lease is gone)
     * or a 400/404/409 (a repeat cannot change it) is only logged: the lease expires, if it is still held.
     */
    private boolean unsent(String jobId, String leaseId, String reason, boolean trouble, RuntimeException e) {
        if (unsent == null || e instanceof LeaseLostException || (e instanceof RegistryException r && final4xx(r))) {
            log.warn("could not release job {} ({}); its lease will expire", jobId, e.getMessage());
            return false;
        }
        if (unsent.record(new UnsentReleases.LeaseRelease(agentId, jobId, leaseId, reason, trouble, Instant.now()))) {
            log.warn("could not release job {} ({}); kept in {}: sent again before the next lease, also by the next"
                    + " agent started on this cache directory", jobId, e.getMessage(), unsent.dir());
            return true;
        }
        log.warn("could not release job {} ({}) nor keep the release; its lease will expire", jobId, e.getMessage());
        return false;
    }

    /** Refusals a repeat of the same release cannot change. */
    private static boolean final4xx(RegistryException e) {
        return e.status() == 400 || e.status() == 404 || e.status() == 409;
    }

    /**
     * Sends the releases of leases in hand kept in the cache directory ({@link #unsent}), by this process or one
     * before it on the directory, oldest first. A release is forgotten once the registry answers it, or says the lease
     * is gone ({@code lease-not-held}) or refuses it for good (400/404/409); anything else keeps it, and the round
     * stops there: an unreachable registry costs one call per round. Records older than a day are dropped unsent
     * ({@link UnsentReleases#MAX_AGE}).
     *
     * @return when the round stopped at a failure: until when a lease released without trouble among those left may
     *     still be held ({@link #untilLeasesExpire}), else empty
     */
    private Optional<Instant> releaseRecorded() {
        if (unsent == null) {
            return Optional.empty();
        }
        List<UnsentReleases.LeaseRelease> kept = unsent.leases(Instant.now());
        for (int i = 0; i < kept.size(); i++) {
            UnsentReleases.LeaseRelease r = kept.get(i);
            if (halted) {
                return Optional.empty(); // a crash sends nothing
            }
            try {
                // As recorded: the agent id of the process that held the lease (agents on one host share one id).
                HandBack h = client.release(r.agentId(), r.jobId(), r.leaseId(),
                        failure(r.reason() + " (sent again: the first release did not get through)"), r.trouble());
                unsent.forget(r);
                handedBack(h);
            } catch (LeaseLostException e) {
                unsent.forget(r);
                log.info("the kept release of job {} is no longer needed, the lease is gone: {}", r.jobId(),
                        e.getMessage());
            } catch (RegistryException e) {
                if (final4xx(e)) {
                    unsent.forget(r);
                    log.warn("the registry refuses the kept release of job {}; dropped: {}", r.jobId(), e.getMessage());
                } else {
                    log.warn("the kept release of job {} still does not get through ({}); tried again before the next"
                            + " lease", r.jobId(), e.getMessage());
                    return untilLeasesExpire(kept.subList(i, kept.size()));
                }
            } catch (RuntimeException e) {
                log.warn("the kept release of job {} still does not get through ({}); tried again before the next lease",
                        r.jobId(), e.toString());
                return untilLeasesExpire(kept.subList(i, kept.size()));
            }
        }
        return Optional.empty();
    }

    /**
     * The latest time a lease of these kept releases without trouble may still be held, if still to come: its holder
     * stopped extending it when the release was recorded, so it lasts at most a lease duration from then (the
     * registry's default, {@link LeaseRequestReleases#leaseDuration}, before this process held a lease).
     */
    private Optional<Instant> untilLeasesExpire(List<UnsentReleases.LeaseRelease> left) {
        Instant now = Instant.now();
        Duration lease = leaseRequestReleases.leaseDuration();
        return left.stream().filter(r -> !r.trouble()).map(r -> r.recordedAt().plus(lease)).filter(now::isBefore)
                .max(Instant::compareTo);
    }

    /**
     * Before the first registration: takes up what earlier processes on this cache directory left, the releases that
     * did not get through ({@link UnsentReleases}) and the lease call the previous process on this instance slot left
     * unanswered ({@link #releaseFirst}), to be sent before each registration try ({@link #releaseKept}). Before, not
     * after: a registration hands back the leases of this instance's ended processes counted like trouble (a job that
     * kills its agent must not come back to it for ever), and a lease released on purpose (a drain) or never run (the
     * ended process's long poll) must not be counted so.
     */
    private void takeUpWhatWasLeft() {
        Instant now = Instant.now();
        leaseRequestReleases.load(now);
        UnansweredLeaseCall call = leftBehind;
        leftBehind = null;
        if (call == null) {
            return;
        }
        if (call.sentAt().isBefore(now.minus(UnsentReleases.MAX_AGE))) {
            log.info("the lease call {} the previous agent process left unanswered was sent {}, more than a day ago: any"
                    + " lease granted for it has long run out; not released", call.request(), call.sentAt());
            return;
        }
        log.info("the previous agent process on this instance slot ended during lease call {} (sent {}); releasing the"
                + " lease the registry may have granted for it, or will grant if the call still waits in its long poll",
                call.request(), call.sentAt());
        // Its window is now: the registry (V15) remembers a release that finds nothing and grants the call nothing
        // later, so one release does (a registry before V15 knows no instances either, V33).
        leaseRequestReleases.add(call.agentId(), call.request(), now, failure("agent " + host.hostName() + "'s process"
                + " ended during this lease call (sent " + call.sentAt() + "), before it could read the answer; released"
                + " by the next process on its instance slot"), 0, now, false);
    }

    /**
     * Sends the releases kept for this agent (of leases in hand, and by request), as far as the registry takes them:
     * before each registration try and before each lease call. Each goes under the agent id recorded with it.
     *
     * @return until when a release without trouble that did not get through (and is tried again) may still give a
     *     lease back, or empty: the registration waits for it ({@link #register})
     */
    private Optional<Instant> releaseKept() {
        Optional<Instant> leases = releaseRecorded();
        if (halted) {
            return Optional.empty();
        }
        leaseRequestReleases.releaseDue(Instant.now(), this::handedBack);
        Optional<Instant> requests = leaseRequestReleases.failedWithoutTroubleUntil(Instant.now());
        return leases.isEmpty() ? requests
                : requests.isEmpty() || leases.get().isAfter(requests.get()) ? leases : requests;
    }

    /**
     * Registers, trying until the registry accepts. Outages (transport, 5xx, 429) and a registration race are
     * retried after {@code backoff} with a warning each time. A refusal (a bad token, {@code 409
     * host-owned-by-another-token}, any other 4xx) will not pass by itself: someone has to act on the registry's
     * detail, which names the fix. It is logged once at ERROR (again only if the refusal changes) and retried
     * quietly at a slow pace ({@link #refusedPause}), so the agent comes up by itself once the token is fixed or
     * the host handed over, without a log line every few seconds meanwhile. Not an exit: the agent treats every
     * registry refusal this way (the process stays up for its supervisor, and exiting would only make the
     * supervisor restart it into the same refusal).
     *
     * <p>What an earlier process left goes first ({@link #takeUpWhatWasLeft}), and a release of it without trouble
     * that does not get through (a 503, a timeout) holds the registration up: registering would hand its job back as
     * this instance's restart, counted like trouble, the very thing the release is kept for. It is tried again after a
     * pause that doubles, until it gets through or until a lease it could give back would have expired
     * ({@link #releaseKept}: at most a lease duration after the release was recorded, or after the lease call's
     * grant window); then the agent registers. A release for trouble does not hold it up: the hand-back counts it
     * the same.
     */
    private AgentRegistration register() {
        // Neither is reset by an outage between two refusals: the same refusal after a 503 is not logged again
        // and its pause keeps growing. Acceptable: nothing changed on the agent's side, and the pause is bounded.
        String refusal = null;
        int refusals = 0;
        int heldUp = 0;
        while (!stopping && !halted) {
            Optional<Instant> waitFor = releaseKept(); // what an earlier process left goes first: see takeUpWhatWasLeft
            if (stopping || halted) {
                break;
            }
            if (waitFor.isPresent()) {
                heldUp++;
                Duration p = heldUpPause(heldUp, waitFor.get());
                log.warn("{} does not register yet: a release without trouble that an earlier agent process on this"
                        + " cache directory kept did not get through, and the registration would hand its job back as"
                        + " this instance's restart, counted against the job like trouble. Trying again in {}; registering"
                        + " without it at {} at the latest, when a lease it could give back has expired",
                        host.hostName(), p, waitFor.get());
                pauseFor(p);
                continue;
            }
            try {
                AgentRegistration reg = client.register(host);
                if (refusals > 0) {
                    log.info("registration of {} accepted after {} refusal(s)", host.hostName(), refusals);
                }
                registrationRefused = null;
                return reg;
            } catch (RegistryException e) {
                if (e.retryable() || e.problem().equals(REGISTRATION_RACE)) {
                    log.warn("register failed ({}); retrying in {}", e.getMessage(), backoff);
                    pause();
                    continue;
                }
                refusals++;
                Duration p = refusedPause(refusals);
                String kind = e.status() + " " + e.problem();
                if (!kind.equals(refusal)) {
                    refusal = kind;
                    log.error("registration of {} refused by the registry; no jobs until it is fixed: {}. Trying again"
                            + " quietly, every {} at most", host.hostName(), e.getMessage(), maxRefusedPause());
                } else {
                    log.debug("registration of {} still refused ({} times; next try in {}): {}", host.hostName(),
                            refusals, p, e.getMessage());
                }
                registrationRefused = e.getMessage();
                pauseFor(p);
            } catch (RuntimeException e) {
                // An answer this agent cannot read (no heartbeatIntervalMs, HTML from a proxy): keep trying.
                log.error("register answer not understood; retrying in {}", backoff, e);
                pause();
            }
        }
        return null;
    }

    /**
     * The pause before the n-th try in a row of a kept release that holds the registration up: {@code backoff} doubled
     * each time up to {@link LeaseRequestReleases#MAX_PAUSE}, and never past {@code until} (rounded up, so that the
     * next round finds the release given up).
     */
    private Duration heldUpPause(int n, Instant until) {
        Duration p = backoff.multipliedBy(1L << Math.max(0, Math.min(n - 1, 10)));
        if (p.compareTo(LeaseRequestReleases.MAX_PAUSE) > 0) {
            p = LeaseRequestReleases.MAX_PAUSE;
        }
        Duration left = Duration.between(Instant.now(), until).plusMillis(1);
        return left.compareTo(p) < 0 ? left : p;
    }

    /** The pause after the n-th refusal in a row: {@code backoff} doubled each time up to {@link #MAX_REFUSED_PAUSE}. */
    private Duration refusedPause(int refusals) {
        Duration p = backoff.multipliedBy(1L << Math.max(0, Math.min(refusals - 1, 10)));
        return p.compareTo(maxRefusedPause()) > 0 ? maxRefusedPause() : p;
    }

    private Duration maxRefusedPause() {
        return backoff.compareTo(MAX_REFUSED_PAUSE) > 0 ? backoff : MAX_REFUSED_PAUSE;
    }

    private void pause() {
        pauseFor(backoff);
    }

    private void pauseFor(Duration d) {
        try {
            stopSignal.await(d.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            // Interrupts only ever mean "stop or drop the job": the stopping/halted flags say which,
            // and keeping the flag set would make every following call fail at once.
        }
    }
}
