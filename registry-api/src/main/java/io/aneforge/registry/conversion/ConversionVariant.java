package io.aneforge.registry.conversion;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.OffsetDateTime;

/** One planned variant of a conversion: one Spring Batch partition on the worker. */
@Entity
@Table(name = "conversion_variant")
class ConversionVariant {

    static final String PENDING = "pending", BUILDING = "building", REGISTERED = "registered", FAILED = "failed";

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;
    @Column(name = "conversion_id", nullable = false)
    long conversionId;
    @Column(name = "spec_id", nullable = false)
    String specId;
    @Column(nullable = false)
    String chip;
    @Column(name = "deployment_target", nullable = false)
    String deploymentTarget;
    @Column(nullable = false)
    String layout;
    @Column(nullable = false)
    String precision;
    @Column(name = "seq_len", nullable = false)
    int seqLen;
    @Column(name = "attention_chunk", nullable = false)
    int attentionChunk;
    @Column(nullable = false)
    String state;
    int builds;
    /** The lease under which {@link #builds} was last counted (V11): a repeated report counts once. */
    @Column(name = "build_lease")
    String buildLease;
    String digest;
    Long size;
    @Column(name = "variant_id")
    Long variantId;
    String error;
    @Column(name = "updated_at", nullable = false)
    OffsetDateTime updatedAt;
}
