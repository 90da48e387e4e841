package io.aneforge.registry.variant;

/**
 * Published inside the yanking transaction; the job queue listens to cancel the variant's open
 * benchmark and accuracy jobs in the same transaction (no device time on a withdrawn artifact).
 */
public record VariantYanked(long variantId, String model, int version, String reason) {}
