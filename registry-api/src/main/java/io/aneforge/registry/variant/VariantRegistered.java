package io.aneforge.registry.variant;

import java.util.List;

/**
 * Published inside the registering transaction right after a variant row is inserted; the job
 * queue listens to create the variant's benchmark and accuracy jobs in the same transaction.
 *
 * @param computeUnits the compute-unit settings the registration asked to benchmark, or null for the default
 */
public record VariantRegistered(long variantId, long versionId, String model, int version, String chip,
                                List<String> computeUnits) {}
