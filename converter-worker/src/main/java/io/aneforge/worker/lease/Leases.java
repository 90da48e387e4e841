package io.aneforge.worker.lease;

import io.aneforge.worker.WorkerProperties;
import io.aneforge.worker.registry.HandBack;
import io.aneforge.worker.registry.RegistryClient;
import io.aneforge.worker.registry.RegistryException;
import io.aneforge.worker.registry.RegistryModels.Conversion;
import io.aneforge.worker.registry.RegistryModels.Lease;
import jakarta.annotation.PreDestroy;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * The leases this worker holds, kept in memory (never in a Batch execution context: a lease token is
 * not worth restarting with), each kept alive by a heartbeat at a third of its duration.
 *
 * <p>A heartbeat waits at most {@link #heartbeatTimeout} (a third of the lease, at most the request timeout)
 * and runs on a thread of its own: the timer only starts beats, so one beat stuck on a half-open connection
 * cannot delay the next one, which opens a fresh connection and keeps the lease.
 *
 * <p>A lease ends in one of three ways: the job completed or failed it in the registry ({@link #forget}), the
 * registry took it away (lost: nothing to do), or the worker hands it back ({@link #handBack}) so that the
 * conversion is queued again at once without spending an attempt.
 */
@Component
public class Leases {

    private static final Logger log = LoggerFactory.getLogger(Leases.class);

    /**
     * The shortest heartbeat period: a lease the registry grants for under 3 s (misconfigured) would
     * otherwise have the worker send heartbeats back to back.
     */
    static final Duration MIN_PERIOD = Duration.ofSeconds(1);

    /**
     * Against a registry that does not count hand-backs (before V14: a release answered 204), how often one worker
     * process hands the same conversion back after transient failures before it lets the lease run out instead
     * (which spends an attempt): a registry that keeps answering 503 to one call must not have a conversion go round
     * forever. The count lasts until the conversion completes or fails ({@link #finished}); a lease that ran out, or
     * was refused a hand-back, does not reset it. A registry that counts (its release answers say what it did) keeps
     * the bound itself ({@code aneforge.conversions.max-hand-backs}, per conversion and worker, across restarts) and
     * fails the conversion past it; this count is then not kept.
     */
    static final int MAX_UNCOUNTED_HAND_BACKS = 3;

    /**
     * The bound of the one release a stopping worker sends (not retried). The runner waits {@code STOP_WAIT}
     * (20 s) for the job: the interrupted job records itself, partitions get up to 5 s, and this leaves the rest
     * of the 20 s (and of compose's 30 s stop_grace_period) to spare; with retries (4 × 10 s + backoff) a
     * registry that is down would have had the context close under the job.
     */
    static final Duration SHUTDOWN_RELEASE_TIMEOUT = Duration.ofSeconds(5);

    /**
     * How long a recorded unreleased lease is sent again at most. A lease lasts minutes (the registry's lease
     * duration) and a few attempts later another worker has long taken the conversion over, so a release older
     * than a day can give nothing back; without a bound a record the registry keeps refusing with something other
     * than {@code lease-lost} (a 401 for a token that is never fixed) would stay in the work directory for ever.
     */
    static final Duration MAX_RECORD_AGE = Duration.ofHours(24);

    /**
     * The pause after a release by lease request failed (after the client's own retries), doubled after each further
     * failure up to {@link #MAX_REQUEST_RELEASE_PAUSE}: during an outage a release is tried once per pause, not once
     * per poll.
     */
    static final Duration REQUEST_RELEASE_PAUSE = Duration.ofSeconds(1);
    static final Duration MAX_REQUEST_RELEASE_PAUSE = Duration.ofSeconds(30);
    /**
     * How long a lease lasts as far as this worker knows before it held one: the registry's default
     * ({@code aneforge.conversions.lease-duration}); every lease held since says what it really is. A release by lease
     * request is kept until that long after the call's grant window: a lease granted by then has run out after it,
     * and there is nothing left to give back.
     */
    static final Duration DEFAULT_LEASE_DURATION = Duration.ofSeconds(60);
    /** Releases by lease request kept at most: a registry that fails every lease call must not grow the list. */
    static final int MAX_REQUEST_RELEASES = 20;

    /**
     * A release by lease request still to be sent: due at {@code due}; any lease the call gets is granted by
     * {@code windowEnd}. Only the runner's thread uses these.
     */
    private static final class RequestRelease {
        final String request;
        /** The worker id the lease call was made with (this worker's, or a stopped one's on this work directory). */
        final String worker;
        final Instant windowEnd;
        final String reason;
        int failures;
        Instant due;

        RequestRelease(UnreleasedLeases.UnreleasedRequest r, Instant due) {
            this.request = r.request();
            this.worker = r.worker();
            this.windowEnd = r.windowEnd();
            this.reason = r.reason();
            this.due = due;
        }
    }

    private final class Held {
        volatile Lease lease;
        volatile String lost;
        volatile String handBack;
        volatile boolean stopping;
        volatile ScheduledFuture<?> heartbeat;
    }

    private final RegistryClient registry;
    private final String worker;
    private final Duration shutdownReleaseTimeout;
    private final List<RequestRelease> requestReleases = new CopyOnWriteArrayList<>();
    /** The duration of the last lease held (see {@link #DEFAULT_LEASE_DURATION}). */
    private volatile Duration leaseDuration = DEFAULT_LEASE_DURATION;
    private final UnreleasedLeases unreleased;
    private final Map<Long, Held> held = new ConcurrentHashMap<>();
    /** Hand-backs per conversion the registry did not count (a registry before V14); see {@link #MAX_UNCOUNTED_HAND_BACKS}. */
    private final Map<Long, Integer> uncountedHandBacks = new ConcurrentHashMap<>();
    /** Whether the registry's last release answer said it counts hand-backs (false until one did). */
    private volatile boolean registryCounts;
    /** The refusal last logged per recorded lease: a refusal that repeats before each lease is logged once. */
    private final Map<Long, String> recordRefusals = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "lease-heartbeat");
        t.setDaemon(true);
        return t;
    });
    private final AtomicInteger beatThreads = new AtomicInteger();
    private final ExecutorService beats = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "lease-heartbeat-" + beatThreads.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    @Autowired
    public Leases(RegistryClient registry, WorkerProperties props) {
        this(registry, SHUTDOWN_RELEASE_TIMEOUT, props.workDir(), props.id());
    }

    /** With a shorter shutdown release bound (tests). */
    Leases(RegistryClient registry, Duration shutdownReleaseTimeout, Path workDir, String worker) {
        this.registry = registry;
        this.worker = worker;
        this.shutdownReleaseTimeout = shutdownReleaseTimeout;
        this.unreleased = new UnreleasedLeases(workDir);
    }

    /** A third of the lease, but not under {@link #MIN_PERIOD}. */
    static Duration heartbeatPeriod(long leaseSeconds) {
        Duration third = Duration.ofMillis(Math.max(0, leaseSeconds) * 1000 / 3);
        return third.compareTo(MIN_PERIOD) < 0 ? MIN_PERIOD : third;
    }

    /** A beat that has not answered by the time the next one starts is given up: min(period, request timeout). */
    Duration heartbeatTimeout(long leaseSeconds) {
        Duration period = heartbeatPeriod(leaseSeconds);
        return period.compareTo(registry.requestTimeout()) < 0 ? period : registry.requestTimeout();
    }

    public void hold(Lease lease) {
        long id = lease.conversion().id();
        if (lease.leaseSeconds() > 0) leaseDuration = Duration.ofSeconds(lease.leaseSeconds());
        Held h = new Held();
        h.lease = lease;
        if (lease.leaseSeconds() < 3) {
            log.warn("the registry leases conversion {} for {} s; heartbeats go out every {} ms at most, so the lease"
                    + " may run out between them (raise ANEFORGE_CONVERSIONS_LEASE_DURATION)", id, lease.leaseSeconds(),
                    MIN_PERIOD.toMillis());
        }
        long period = heartbeatPeriod(lease.leaseSeconds()).toMillis();
        Duration timeout = heartbeatTimeout(lease.leaseSeconds());
        h.heartbeat = timer.scheduleAtFixedRate(() -> {
            try {
                beats.execute(() -> beat(id, h, timeout));
            } catch (RejectedExecutionException stopping) {
                // the worker is shutting down
            }
        }, period, period, TimeUnit.MILLISECONDS);
        Held old = held.put(id, h);
        if (old != null) old.heartbeat.cancel(false);
    }

    private void beat(long id, Held h, Duration timeout) {
        if (h.lost != null || h.heartbeat.isCancelled()) return;
        MDC.put("conversion", Long.toString(id));
        try {
            Lease current = h.lease;
            h.lease = new Lease(current.leaseToken(), current.leaseSeconds(),
                    registry.heartbeat(id, current.leaseToken(), timeout).conversion());
        } catch (RegistryException e) {
            if (e.leaseGone()) {
                h.lost = e.getMessage();
                h.heartbeat.cancel(false);
                log.warn("lost the lease: {}", e.getMessage());
            } else {
                log.warn("heartbeat failed (the next one follows): {}", e.getMessage());
            }
        } catch (RuntimeException e) {
            log.warn("heartbeat failed (the next one follows): {}", e.toString());
        } finally {
            MDC.remove("conversion");
        }
    }

    private Held require(long id) {
        Held h = held.get(id);
        if (h == null) throw new LeaseLostException("this worker holds no lease on conversion " + id);
        if (h.lost != null) throw new LeaseLostException(h.lost);
        return h;
    }

    public String token(long id) {
        return require(id).lease.leaseToken();
    }

    /** The conversion as of the lease (or the last heartbeat). */
    public Conversion conversion(long id) {
        return require(id).lease.conversion();
    }

    public boolean holds(long id) {
        Held h = held.get(id);
        return h != null && h.lost == null;
    }

    /** Stops the heartbeats (the job is over); what happens to the lease is decided by {@link #end}. */
    public void stopHeartbeat(long id) {
        Held h = held.get(id);
        if (h != null) h.heartbeat.cancel(false);
    }

    /**
     * Marks the lease to be handed back when its job is over ({@link #end}): the job stopped for a reason that
     * is not the conversion's fault (the worker is stopping, the registry was unreachable). A hand-back for trouble
     * (not stopping) is counted by a registry that counts them, which fails the conversion past its bound. Against a
     * registry that does not, and unless the worker is stopping, returns false when this process already handed the
     * conversion back {@link #MAX_UNCOUNTED_HAND_BACKS} times; the lease then runs out. A stopping worker's release is
     * not counted, and sent once, within {@link #SHUTDOWN_RELEASE_TIMEOUT}.
     */
    public boolean handBackWhenDone(long id, String reason, boolean stopping) {
        Held h = held.get(id);
        if (h == null || h.lost != null) return false;
        if (!stopping && uncountedHandBacks.getOrDefault(id, 0) >= MAX_UNCOUNTED_HAND_BACKS) {
            log.warn("not handing conversion {} back again (already {} times, and the registry does not count"
                    + " hand-backs); its lease runs out and that costs an attempt", id, MAX_UNCOUNTED_HAND_BACKS);
            return false;
        }
        h.handBack = reason;
        if (stopping) h.stopping = true;
        return true;
    }

    /**
     * The job of this lease is over (and recorded in the job repository): hands the lease back if the job
     * asked for that, otherwise just forgets it. Returns whether the registry took the lease back.
     */
    public boolean end(long id) {
        Held h = held.remove(id);
        if (h == null) return false;
        h.heartbeat.cancel(false);
        // The hand-back count is kept here (a refused hand-back, a lost lease): only finished(), when the conversion
        // really ended in the registry, resets it; otherwise a refusal would start the count over.
        if (h.handBack == null || h.lost != null) return false;
        return handBack(id, h);
    }

    private boolean handBack(long id, Held h) {
        // A worker stopping was interrupted: the call must still go out (the interrupt is restored after it).
        boolean interrupted = Thread.interrupted();
        try {
            HandBack answer = h.stopping
                    ? registry.releaseOnce(id, h.lease.leaseToken(), h.handBack, shutdownReleaseTimeout)
                    : registry.release(id, h.lease.leaseToken(), h.handBack, true);
            return handedBack(id, answer, h.handBack);
        } catch (RegistryException e) {
            if (!e.leaseGone()) {
                if (e.isTransient()) {
                    remember(id, h, e.getMessage());
                } else {
                    log.warn("could not hand the lease back ({}); it runs out within {} s instead: {}", h.handBack,
                            h.lease.leaseSeconds(), e.getMessage());
                }
                return false;
            }
            // Counted (against a registry that does not count): the conversion may well have been handed back (a
            // retried release whose first try landed).
            if (!registryCounts) uncountedHandBacks.merge(id, 1, Integer::sum);
            log.warn("the lease is no longer this worker's, so there is nothing left to hand back ({}): an earlier try"
                    + " of this release may have gone through, or the lease ran out or was taken over: {}", h.handBack,
                    e.getMessage());
            return false;
        } catch (RuntimeException e) {
            remember(id, h, e.toString());
            return false;
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    /**
     * Follows the registry's answer to a hand-back: true when the conversion is queued again, false when the registry
     * failed it instead (this worker's hand-backs of it went past {@code aneforge.conversions.max-hand-backs}).
     */
    private boolean handedBack(long id, HandBack answer, String reason) {
        registryCounts = answer.counted();
        if (answer.counted()) {
            uncountedHandBacks.remove(id);
        } else {
            uncountedHandBacks.merge(id, 1, Integer::sum); // a registry before V14: bounded here instead
        }
        if (answer.failed()) {
            finished(id);
            log.error("the registry failed the conversion instead of taking it back ({}): {}", reason, answer.failure());
            return false;
        }
        log.info("handed the lease back ({}): the conversion is queued again without spending an attempt", reason);
        return true;
    }

    /**
     * The release did not get through (the registry unreachable, or no answer within the bound): recorded in the
     * work directory and sent again before the next lease, or by the next worker started on this work directory.
     * The registry takes it until another worker has taken the conversion over, so the attempt is given back.
     */
    private void remember(long id, Held h, String why) {
        if (unreleased.record(new UnreleasedLeases.Unreleased(id, h.lease.leaseToken(), h.handBack, !h.stopping))) {
            log.warn("could not hand the lease back ({}): {}; recorded in the work directory, the release is sent again"
                    + " before the next lease (or by the next worker on this work directory)", h.handBack, why);
        } else {
            log.warn("could not hand the lease back ({}) nor record it in the work directory; it runs out within {} s"
                    + " instead: {}", h.handBack, h.lease.leaseSeconds(), why);
        }
    }

    /**
     * Sends the releases recorded by {@link #remember} (by this process or a stopped worker on the same work
     * directory) again: a record goes when the registry took the release or says the lease is gone ({@code
     * lease-lost} or any other 409: taken over, finished, cancelled; nothing left to give back), and stays for the
     * next try otherwise: the registry unreachable, but also a refusal that says nothing about the lease (401/403
     * after a token rotation, 404 from a registry without the endpoint), logged once per kind. A record older than
     * {@link #MAX_RECORD_AGE} is dropped unsent (logged). Returns how many leases were handed back.
     */
    public int releaseRecorded() {
        int released = 0;
        for (UnreleasedLeases.Unreleased u : unreleased.recorded()) {
            if (held.containsKey(u.conversionId())) continue; // leased again by this process: its own lease now
            MDC.put("conversion", Long.toString(u.conversionId()));
            try {
                java.time.Instant at = unreleased.recordedAt(u.conversionId()).orElse(null);
                if (at != null && at.isBefore(java.time.Instant.now().minus(MAX_RECORD_AGE))) {
                    drop(u.conversionId());
                    log.warn("dropped the recorded release of lease ({}) unsent: recorded {}, more than {} h ago; long"
                            + " expired and taken over, it can give nothing back", u.reason(), at, MAX_RECORD_AGE.toHours());
                    continue;
                }
                HandBack answer = registry.release(u.conversionId(), u.leaseToken(),
                        u.reason() + " (sent again: the first release failed)", u.trouble());
                drop(u.conversionId());
                if (handedBack(u.conversionId(), answer, u.reason() + ", sent again: the first release failed")) {
                    released++;
                }
            } catch (RegistryException e) {
                if (e.isTransient()) {
                    log.warn("the recorded release still does not get through (tried again before the next lease): {}",
                            e.getMessage());
                } else if (e.leaseGone() || e.status() == 409) {
                    drop(u.conversionId());
                    log.info("the recorded lease is no longer to be handed back: {}", e.getMessage());
                } else if (!Integer.toString(e.status()).equals(recordRefusals.put(u.conversionId(),
                        Integer.toString(e.status())))) {
                    log.warn("the registry refuses the recorded release ({}); the record is kept and sent again before"
                            + " each lease (for at most {} h; this is logged once per status): {}", u.reason(),
                            MAX_RECORD_AGE.toHours(), e.getMessage());
                } else {
                    log.debug("the registry still refuses the recorded release: {}", e.getMessage());
                }
            } catch (RuntimeException e) {
                log.warn("the recorded release still does not get through (tried again before the next lease): {}",
                        e.toString());
            } finally {
                MDC.remove("conversion");
            }
        }
        return released;
    }

    /**
     * Releases the lease the registry granted for lease call {@code request}, whose answer this worker could not read
     * or never got, by that request id: now, and, when the registry holds none for it yet (a call still on its way may
     * be granted after this release arrived by a registry before V15; since V15 the registry refuses that grant
     * itself), once more after {@code grantWindowEnd}; the runner does not lease again
     * before that ({@link #openGrantWindow}). Only this release is sent now: the others wait for their own time
     * ({@link #releaseLeaseRequests}). Recorded in the work directory ({@link UnreleasedLeases#record(
     * UnreleasedLeases.UnreleasedRequest)}) until the registry answered it: a worker that stops meanwhile leaves it to
     * the next worker started on that work directory ({@link #loadLeaseRequests}).
     */
    public void releaseLeaseRequest(String request, String reason, Instant grantWindowEnd) {
        UnreleasedLeases.UnreleasedRequest r = new UnreleasedLeases.UnreleasedRequest(request, worker, reason,
                grantWindowEnd, Instant.now());
        if (!unreleased.record(r)) {
            log.warn("cannot record the release of lease call {} in the work directory; kept in memory only", request);
        }
        RequestRelease p = new RequestRelease(r, Instant.now());
        keep(p);
        send(p, Instant.now());
    }

    /**
     * Takes up the releases by lease request a stopped worker on this work directory recorded but did not get
     * through (the registry unreachable, or the worker stopped first); they are due at once and then follow {@link
     * #releaseLeaseRequests}. Records older than {@link #MAX_RECORD_AGE} are dropped (logged). Returns how many.
     */
    public int loadLeaseRequests() {
        int loaded = 0;
        for (UnreleasedLeases.UnreleasedRequest r : unreleased.requests(Instant.now(), MAX_RECORD_AGE)) {
            if (requestReleases.stream().anyMatch(p -> p.request.equals(r.request()))) continue;
            log.info("the release of lease call {} (worker '{}', recorded {}) did not get through before that worker"
                    + " stopped; sending it now", r.request(), r.worker(), r.recordedAt());
            keep(new RequestRelease(r, Instant.now()));
            loaded++;
        }
        return loaded;
    }

    private void keep(RequestRelease p) {
        if (requestReleases.size() >= MAX_REQUEST_RELEASES) {
            RequestRelease oldest = requestReleases.remove(0);
            unreleased.forgetRequest(oldest.request);
            log.warn("dropped the release of lease call {} unsent ({} releases by request are waiting already); the"
                    + " lease it got, if any, runs out", oldest.request, MAX_REQUEST_RELEASES);
        }
        requestReleases.add(p);
    }

    /** Done with it: answered, refused for good, or no longer worth sending. */
    private void drop(RequestRelease p) {
        requestReleases.remove(p);
        unreleased.forgetRequest(p.request);
    }

    /** {@link #releaseLeaseRequests(Instant)} now. */
    public void releaseLeaseRequests() {
        releaseLeaseRequests(Instant.now());
    }

    /**
     * Sends the releases by lease request that are due at {@code now} (see {@link #releaseLeaseRequest}): dropped once
     * the registry released or failed the conversion, or finds nothing after the call's grant window. A release that
     * fails (the registry unreachable, a 5xx, a 401/403 after a token rotation) is tried again after a pause that
     * doubles ({@link #REQUEST_RELEASE_PAUSE} up to {@link #MAX_REQUEST_RELEASE_PAUSE}), and a round stops at it (one
     * wait per round, not one per request); it is given up once the lease a late grant got would have run out (the
     * grant window plus the lease duration), or at once on a 400 or 404 (a registry without the endpoint, a request id
     * it does not take: a repeat cannot change that).
     */
    void releaseLeaseRequests(Instant now) {
        for (RequestRelease p : requestReleases) {
            if (p.due.isAfter(now)) continue;
            if (!send(p, now)) return;
        }
    }

    /**
     * When the grant window of a lost lease call closes, if one is still open at {@code now} and its release has not
     * yet been sent after it: the runner waits until then before leasing again, so that the second release goes out
     * while a lease granted late is still held (a job started meanwhile could run past that lease's expiry).
     */
    public java.util.Optional<Instant> openGrantWindow(Instant now) {
        return requestReleases.stream().map(p -> p.windowEnd).filter(now::isBefore).max(Instant::compareTo);
    }

    /** Sends one release by lease request; returns false when it failed (the round stops). */
    private boolean send(RequestRelease p, Instant now) {
        try {
            HandBack h = registry.releaseLeaseRequest(p.request, p.worker, p.reason);
            if (h.none() && now.isBefore(p.windowEnd)) {
                p.due = p.windowEnd; // the call may still be granted: ask again once it no longer can be
                log.info("the registry holds no lease of this worker for lease call {} (yet); asking again at {}",
                        p.request, p.windowEnd);
                return true;
            }
            drop(p);
            if (h.failed()) {
                log.error("the registry failed conversion {} instead of taking it back ({}): {}", h.conversionId(),
                        p.reason, h.failure());
            } else if (h.none()) {
                log.info("the registry holds no lease of this worker for lease call {}", p.request);
            } else {
                log.info("released the lease granted for lease call {} (conversion {}): queued again without"
                        + " spending an attempt", p.request, h.conversionId());
            }
            return true;
        } catch (RuntimeException e) {
            if (e instanceof RegistryException r && r.getCause() instanceof InterruptedException) {
                // The worker is stopping: not a refusal. The record stays for the next worker on this work directory.
                Thread.currentThread().interrupt();
                log.info("the worker is stopping before the release of lease call {} got through; recorded in the"
                        + " work directory, the next worker started on it sends it", p.request);
                return false;
            }
            if (e instanceof RegistryException r && (r.status() == 400 || r.status() == 404)) {
                drop(p);
                log.warn("the registry refuses the release of lease call {}; the lease, if any, runs out: {}",
                        p.request, r.getMessage());
                return true;
            }
            Instant giveUp = p.windowEnd.plus(leaseDuration);
            p.failures++;
            Duration pause = REQUEST_RELEASE_PAUSE.multipliedBy(1L << Math.min(p.failures - 1, 10));
            if (pause.compareTo(MAX_REQUEST_RELEASE_PAUSE) > 0) pause = MAX_REQUEST_RELEASE_PAUSE;
            if (!now.isBefore(giveUp)) {
                drop(p);
                log.warn("gave up releasing the lease of lease call {} after {} tries: a lease granted for it has run"
                        + " out by {}: {}", p.request, p.failures, giveUp, e.getMessage());
            } else {
                Instant next = now.plus(pause);
                p.due = next.isBefore(giveUp) ? next : giveUp; // the last try when such a lease runs out
                log.warn("could not release the lease of lease call {} (trying again in {} s): {}", p.request,
                        pause.toSeconds(), e.getMessage());
            }
            return false;
        }
    }

    /** Releases by lease request still waiting (for tests). */
    int pendingLeaseRequests() {
        return requestReleases.size();
    }

    private void drop(long conversionId) {
        unreleased.forget(conversionId);
        recordRefusals.remove(conversionId);
    }

    /** Forgets the lease without telling the registry (the job completed or failed the conversion there). */
    public void forget(long id) {
        Held h = held.remove(id);
        if (h != null) h.heartbeat.cancel(false);
        finished(id);
    }

    /** The registry accepted the conversion's completion or failure: its hand-back count starts over. */
    public void finished(long id) {
        uncountedHandBacks.remove(id);
    }

    @PreDestroy
    void stop() {
        timer.shutdownNow();
        beats.shutdownNow();
    }
}
