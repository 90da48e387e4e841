package io.aneforge.registry.conversion;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.OffsetDateTime;

/** A row of {@code conversion}; state changes go through {@link Conversions} only. */
@Entity
@Table(name = "conversion")
class Conversion {

    static final String QUEUED = "queued", RUNNING = "running", SUCCEEDED = "succeeded", FAILED = "failed",
            CANCELLED = "cancelled";

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;
    @Column(name = "version_id", nullable = false)
    long versionId;
    @Column(nullable = false)
    String state;
    String step;
    @Column(nullable = false)
    String chips;
    @Column(nullable = false)
    String recipe;
    @Column(name = "seq_len", nullable = false)
    int seqLen;
    /**
     * {@code convert} (a checkpoint's task head is converted), {@code none} (hidden states) or a head kind to convert
     * ({@code sequence-classification}, ...: {@code HeadChoice}), V30; {@code pre-training} since V31.
     */
    @Column(nullable = false)
    String head;
    /** Whether the packages take a {@code token_type_ids} input (V30). */
    @Column(name = "token_types", nullable = false)
    boolean tokenTypes;
    int attempts;
    /** Releases so far (V12): past {@code aneforge.conversions.free-releases} a release spends the attempt. */
    int releases;
    @Column(name = "max_attempts", nullable = false)
    int maxAttempts;
    @Column(name = "lease_owner")
    String leaseOwner;
    @Column(name = "lease_token")
    String leaseToken;
    /** The request id the worker sent with the call that took the current lease (V13), or null. */
    @Column(name = "lease_request")
    java.util.UUID leaseRequest;
    @Column(name = "lease_expires_at")
    OffsetDateTime leaseExpiresAt;
    @Column(name = "resolved_commit")
    String resolvedCommit;
    @Column(name = "golden_digest")
    String goldenDigest;
    String error;
    @Column(name = "created_by", nullable = false)
    String createdBy;
    @Column(name = "created_at", nullable = false)
    OffsetDateTime createdAt;
    @Column(name = "updated_at", nullable = false)
    OffsetDateTime updatedAt;
    @Column(name = "finished_at")
    OffsetDateTime finishedAt;

    boolean live() {
        return QUEUED.equals(state) || RUNNING.equals(state);
    }

    boolean leaseExpired(OffsetDateTime now) {
        return RUNNING.equals(state) && leaseExpiresAt != null && leaseExpiresAt.isBefore(now);
    }

    /** Whether a worker must declare {@link Conversions#OPTIONS_HEAD_TOKEN_TYPES} to lease this: head or token types set. */
    boolean needsOptions() {
        return !"convert".equals(head) || tokenTypes;
    }

    /**
     * The {@code conversionOptions} a worker must declare to lease this: 0, {@link Conversions#OPTIONS_HEAD_TOKEN_TYPES}
     * for a head or token types, {@link Conversions#OPTIONS_PRE_TRAINING} for the pre-training head (V31), which
     * workers that declare only 1 do not know.
     */
    int requiredOptions() {
        return Conversions.PRE_TRAINING_HEAD.equals(head) ? Conversions.OPTIONS_PRE_TRAINING
                : needsOptions() ? Conversions.OPTIONS_HEAD_TOKEN_TYPES : 0;
    }
}
