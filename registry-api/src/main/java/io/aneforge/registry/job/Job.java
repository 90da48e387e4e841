package io.aneforge.registry.job;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.UUID;

/**
 * A benchmark or accuracy job for one variant (table {@code job}). States: pending → leased →
 * succeeded | failed (or cancelled, when the variant is yanked); an expired lease goes back to pending until {@code maxAttempts} leases
 * were handed out, then the job fails with the reason.
 */
@Entity
@Table(name = "job")
public class Job {

    public static final String BENCHMARK = "benchmark";
    public static final String ACCURACY = "accuracy";
    public static final String PENDING = "pending";
    public static final String LEASED = "leased";
    public static final String SUCCEEDED = "succeeded";
    public static final String FAILED = "failed";
    /** The variant or its version was yanked before the job finished (see {@link JobCancellation}). */
    public static final String CANCELLED = "cancelled";

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    private Long id;
    @Column(name = "variant_id", nullable = false)
    private long variantId;
    @Column(nullable = false)
    private String kind;
    @Column(nullable = false)
    private String runtime;
    private String chip;
    @Column(name = "compute_units", nullable = false)
    private String computeUnits;
    @Column(nullable = false)
    private String state;
    @Column(nullable = false)
    private boolean ready;
    /**
     * The format version of the version's golden data (1 until it is set): leased only to agents that read it
     * ({@code agent.golden_format}, V26).
     */
    @Column(name = "golden_format", nullable = false)
    private int goldenFormat = 1;
    @Column(nullable = false)
    private int attempts;
    @Column(name = "max_attempts", nullable = false)
    private int maxAttempts;
    @Column(name = "lease_id")
    private UUID leaseId;
    @Column(name = "leased_by")
    private UUID leasedBy;
    @Column(name = "lease_expires_at")
    private Instant leaseExpiresAt;
    @Column(name = "failure_reason")
    private String failureReason;
    @Column(name = "created_at", nullable = false)
    private Instant createdAt;
    @Column(name = "finished_at")
    private Instant finishedAt;
    /** 1 for the job queued with the variant; 2, 3, ... for accuracy re-runs ({@code Jobs.rerunAccuracy}). */
    @Column(nullable = false)
    private int run = 1;

    protected Job() {}

    Job(long variantId, String kind, String runtime, String chip, String computeUnits, boolean ready, int goldenFormat,
        int maxAttempts, Instant now) {
        this.ready = ready;
        this.goldenFormat = goldenFormat;
        this.variantId = variantId;
        this.kind = kind;
        this.runtime = runtime;
        this.chip = chip;
        this.computeUnits = computeUnits;
        this.state = PENDING;
        this.maxAttempts = maxAttempts;
        this.createdAt = now;
    }

    /** A re-run of an identity whose newest job has run {@code run - 1}: a new job, the earlier ones stay as history. */
    static Job rerun(long variantId, String kind, String runtime, String chip, String computeUnits, int goldenFormat,
                     int maxAttempts, Instant now, int run) {
        Job j = new Job(variantId, kind, runtime, chip, computeUnits, true, goldenFormat, maxAttempts, now);
        j.run = run;
        return j;
    }

    /** Back to the queue without spending an attempt (a draining agent handing its job back). */
    void release() {
        this.state = PENDING;
        this.attempts = Math.max(0, attempts - 1);
        clearLease();
    }

    /** Failed by the registry: its agent handed it back too often for trouble (see {@code Jobs.handBack}). */
    void fail(String reason, Instant now) {
        this.state = FAILED;
        this.failureReason = reason;
        this.finishedAt = now;
        clearLease();
    }

    private void clearLease() {
        this.leaseId = null;
        this.leaseExpiresAt = null;
    }

    public Long id() { return id; }
    public long variantId() { return variantId; }
    public String kind() { return kind; }
    public String runtime() { return runtime; }
    public String chip() { return chip; }
    public String computeUnits() { return computeUnits; }
    public String state() { return state; }
    public boolean ready() { return ready; }
    public int attempts() { return attempts; }
    public int maxAttempts() { return maxAttempts; }
    public UUID leaseId() { return leaseId; }
    public UUID leasedBy() { return leasedBy; }
    public Instant leaseExpiresAt() { return leaseExpiresAt; }
    public String failureReason() { return failureReason; }
    public Instant createdAt() { return createdAt; }
    public Instant finishedAt() { return finishedAt; }
    public int run() { return run; }
}
