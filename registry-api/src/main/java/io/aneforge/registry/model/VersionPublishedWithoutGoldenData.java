package io.aneforge.registry.model;

/**
 * A version was published without golden data by its publisher's explicit choice (published in the publishing
 * transaction): its jobs, which need golden data, can never run and are cancelled with the choice's reason.
 */
public record VersionPublishedWithoutGoldenData(long versionId, String model, int version, Models.WithoutGoldenData choice) {}
