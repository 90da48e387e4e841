package io.aneforge.registry.model;

/** Published after a write that can change a resolve answer (variants, version status, aliases). */
public record RegistryChanged(String model) {}
