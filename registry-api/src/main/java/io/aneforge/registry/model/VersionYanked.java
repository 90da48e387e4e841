package io.aneforge.registry.model;

/**
 * Published inside the yanking transaction; the job queue listens to cancel the open jobs of
 * every variant of the version in the same transaction.
 */
public record VersionYanked(long versionId, String model, int version, String reason) {}
