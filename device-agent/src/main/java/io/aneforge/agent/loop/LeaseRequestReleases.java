package io.aneforge.agent.loop;

import io.aneforge.agent.registry.HandBack;
import io.aneforge.agent.registry.RegistryClient;
import io.aneforge.agent.registry.RegistryException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Releases by request id ({@link RegistryClient#releaseLeaseRequest}) still to be sent: for lease calls whose answer
 * was lost on the way, whose lease the registry may have granted, and for releases that failed themselves. Used by
 * the loop thread only, which sends the due ones before each lease call.
 *
 * <p>A lease call that is still on its way, or still waiting in the registry's long poll, may be granted after the
 * first release arrived, which then finds nothing ({@code none}) by a registry before V15 (since V15 the registry
 * remembers that {@code none} and grants the call nothing; the second release then finds nothing too, which costs
 * one call and keeps older registries covered). So a release that finds nothing before the call's
 * grant window closed ({@link io.aneforge.agent.registry.LeaseAnswerLostException#grantWindowEnd()}) is sent once
 * more after it; {@code none} after the window means nothing was granted, and the request is dropped, as it is when
 * the registry released or failed the job. The loop does not lease again while such a window is open
 * ({@link #openGrantWindow}): the second release goes out while a lease granted late is still held, not after a job
 * leased meanwhile ran past it. A release that fails (the registry unreachable, a 5xx, an answer it cannot read, a
 * 401/403 after a token rotation) is tried again after a pause that doubles (up to {@link #MAX_PAUSE}), until a lease
 * granted for the call would have expired (its grant window plus the lease duration, {@link #leaseLasts}); a 400 or
 * 404 (a registry without the endpoint, a request id it does not take) drops it at once. At most
 * {@link #MAX_REMEMBERED} requests are kept (the oldest go first), and a round stops at the first release that fails,
 * so an unreachable registry holds the loop up for one call per round, not one per request.
 *
 * <p>Each request is also written to the agent's cache directory ({@link UnsentReleases}) until it is dropped, and
 * {@link #load} reads back what an earlier process left there: an agent restarted before a release got through (the
 * registry unreachable meanwhile) still sends it, instead of leaving the lease to expire at the cost of an attempt.
 * A request loaded that way is sent at once; the same bounds then apply.
 */
final class LeaseRequestReleases {

    private static final Logger log = LoggerFactory.getLogger(LeaseRequestReleases.class);

    /** The longest pause between tries of a release that keeps failing. */
    static final Duration MAX_PAUSE = Duration.ofMinutes(1);
    /**
     * How long a job lease lasts before the agent held one: the registry's default ({@code
     * aneforge.agents.lease-duration}); every lease held since says what it really is ({@link #leaseLasts}).
     */
    static final Duration DEFAULT_LEASE_DURATION = Duration.ofMinutes(5);
    /** Requests kept at most: a registry that fails every lease call for hours must not grow this list. */
    static final int MAX_REMEMBERED = 20;

    private static final class Pending {
        final UnsentReleases.RequestRelease recorded;
        final String agentId;
        final String request;
        final Instant windowEnd;
        final String reason;
        final boolean trouble;
        int failures;
        Instant due;

        Pending(UnsentReleases.RequestRelease recorded, int failures, Instant due) {
            this.recorded = recorded;
            this.agentId = recorded.agentId();
            this.request = recorded.request();
            this.windowEnd = recorded.windowEnd();
            this.reason = recorded.reason();
            this.trouble = recorded.trouble();
            this.failures = failures;
            this.due = due;
        }
    }

    private final RegistryClient client;
    private final Duration retryPause;
    /** Where the requests outlive this process, or null (kept in memory only). */
    private final UnsentReleases unsent;
    private final List<Pending> pending = new ArrayList<>();
    private Duration leaseDuration = DEFAULT_LEASE_DURATION;

    /**
     * @param retryPause the pause after the first failed release, doubled after each further one
     * @param unsent where the requests are kept until sent, to outlive the process; null keeps them in memory only
     */
    LeaseRequestReleases(RegistryClient client, Duration retryPause, UnsentReleases unsent) {
        this.client = client;
        this.retryPause = retryPause;
        this.unsent = unsent;
    }

    /**
     * Remembers agent {@code agentId}'s lease call {@code request}: its release is due at {@code due} ({@code
     * failures} tries of it failed already), and any lease it gets is granted by {@code windowEnd}. Written to the
     * cache directory before anything is sent, so a crash in between loses nothing. Counted by the registry like a
     * release for trouble.
     */
    boolean add(String agentId, String request, Instant windowEnd, String reason, int failures, Instant due) {
        return add(agentId, request, windowEnd, reason, failures, due, true);
    }

    /**
     * As {@link #add(String, String, Instant, String, int, Instant)}; {@code trouble} false: the registry does not count
     * it (a call a drain cut short, the unanswered call of an ended process). A request already waiting is not added
     * twice (the one waiting is kept).
     *
     * @return whether the release was written to the cache directory, where it outlives this process (false: kept in
     *     memory only, or a request already waiting)
     */
    boolean add(String agentId, String request, Instant windowEnd, String reason, int failures, Instant due,
            boolean trouble) {
        if (pending.stream().anyMatch(p -> p.request.equals(request))) {
            return false;
        }
        UnsentReleases.RequestRelease r = new UnsentReleases.RequestRelease(agentId, request, reason, windowEnd,
                Instant.now(), trouble);
        boolean kept = unsent != null && unsent.record(r);
        remember(new Pending(r, failures, due));
        return kept;
    }

    /**
     * Takes up the requests an earlier agent process on this cache directory left unsent (it stopped or crashed before
     * the registry answered them), due at {@code now}. Requests already held are not read twice.
     */
    void load(Instant now) {
        if (unsent == null) {
            return;
        }
        for (UnsentReleases.RequestRelease r : unsent.requests(now)) {
            if (pending.stream().noneMatch(p -> p.request.equals(r.request()))) {
                log.info("the release of lease call {} (recorded {}) was not delivered before the agent stopped;"
                        + " sending it now", r.request(), r.recordedAt());
                remember(new Pending(r, 0, now));
            }
        }
    }

    private void remember(Pending p) {
        if (pending.size() >= MAX_REMEMBERED) {
            Pending oldest = pending.remove(0);
            forget(oldest);
            log.warn("dropped the release of lease call {} unsent ({} releases by request are waiting already); the"
                    + " lease it got, if any, expires", oldest.request, MAX_REMEMBERED);
        }
        pending.add(p);
    }

    /** Dropped from memory and from the cache directory: delivered, refused for good, or no longer worth sending. */
    private void forget(Pending p) {
        if (unsent != null) {
            unsent.forget(p.recorded);
        }
    }

    int size() {
        return pending.size();
    }

    /** A lease just granted lasts this long: how long a release by request is worth trying. */
    void leaseLasts(Duration d) {
        if (!d.isNegative() && !d.isZero()) {
            leaseDuration = d;
        }
    }

    /** How long a lease granted for a call lasts, as far as this agent knows (the last lease it held, or the default). */
    Duration leaseDuration() {
        return leaseDuration;
    }

    /**
     * Until when a release without trouble that failed (and is tried again when due) is still worth sending, or empty:
     * the latest give-up time ({@link #failed}) among them. The agent does not register before then unless they got
     * through: its registration would hand their jobs back as the restart of its instance, counted like trouble.
     */
    java.util.Optional<Instant> failedWithoutTroubleUntil(Instant now) {
        return pending.stream().filter(p -> !p.trouble && p.failures > 0).map(p -> p.windowEnd.plus(leaseDuration))
                .filter(now::isBefore).max(Instant::compareTo);
    }

    /**
     * When the last grant window still open at {@code now} closes (a lost call may still be granted until then), or
     * empty: the loop does not lease before it, and sends the second release first.
     */
    java.util.Optional<Instant> openGrantWindow(Instant now) {
        return pending.stream().map(p -> p.windowEnd).filter(now::isBefore).max(Instant::compareTo);
    }

    /** Sends the releases due at {@code now}; {@code answered} gets every answer that released or failed a job. */
    void releaseDue(Instant now, Consumer<HandBack> answered) {
        send(now, false, answered);
    }

    /**
     * The agent is stopping: one last try of every release, due or not. Those that did not get through (and a
     * {@code none} while the call's grant window is still open) stay in the cache directory for the next agent
     * started on it.
     */
    void releaseAll(Consumer<HandBack> answered) {
        send(Instant.now(), true, answered);
        if (!pending.isEmpty() && unsent != null) {
            log.warn("{} release(s) by request did not get through before the agent stopped; kept in {} for the next"
                    + " agent started on this cache directory", pending.size(), unsent.dir());
        }
        pending.clear();
    }

    private void send(Instant now, boolean last, Consumer<HandBack> answered) {
        for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
            Pending p = it.next();
            if (!last && p.due.isAfter(now)) {
                continue;
            }
            try {
                // As recorded: a request loaded from the cache directory was made by the agent id of that time.
                HandBack h = client.releaseLeaseRequest(p.agentId, p.request, p.reason, p.trouble);
                if (!h.none()) {
                    it.remove();
                    forget(p);
                    answered.accept(h);
                } else if (now.isBefore(p.windowEnd)) {
                    p.due = p.windowEnd; // the call may still be granted: ask again once it no longer can be
                    log.info("the registry holds no lease for lease call {} (yet); asking again at {}", p.request,
                            p.windowEnd);
                } else {
                    it.remove();
                    forget(p);
                    log.info("the registry granted no lease for lease call {}", p.request);
                }
            } catch (RegistryException e) {
                if (e.status() == 400 || e.status() == 404) {
                    it.remove();
                    forget(p);
                    log.warn("the registry refuses to release the lease of lease call {} ({}); the lease, if any,"
                            + " expires", p.request, e.getMessage());
                } else if (failed(it, p, now, e.getMessage()) || last) {
                    return; // the registry does not answer: the others wait for the next round
                }
            } catch (RuntimeException e) {
                // an answer that does not read (a proxy's page): as good as no answer
                if (failed(it, p, now, e.toString()) || last) {
                    return;
                }
            }
        }
    }

    /**
     * Counts a failed try: the request is dropped once a lease granted for it would have expired, else tried again
     * after a pause that doubles (its last try when such a lease expires). Returns true (the round ends).
     */
    private boolean failed(Iterator<Pending> it, Pending p, Instant now, String why) {
        p.failures++;
        Instant giveUp = p.windowEnd.plus(leaseDuration);
        if (!now.isBefore(giveUp)) {
            it.remove();
            forget(p);
            log.warn("gave up releasing the lease of lease call {} after {} tries ({}); a lease granted for it has"
                    + " expired by now", p.request, p.failures, why);
        } else {
            Duration pause = retryPause.multipliedBy(1L << Math.min(p.failures - 1, 10));
            if (pause.compareTo(MAX_PAUSE) > 0) {
                pause = MAX_PAUSE;
            }
            Instant next = now.plus(pause);
            p.due = next.isBefore(giveUp) ? next : giveUp;
            log.warn("could not release the lease of lease call {} ({}); trying again at {}", p.request, why, p.due);
        }
        return true;
    }
}
