package io.aneforge.chips;

/** A device identifier (e.g. {@code iPhone16,1}) and the chip inside it. */
public record Device(String identifier, String chipId, String name, Platform platform, String source) {
    public Device {
        if (identifier == null || identifier.isBlank()) throw new IllegalArgumentException("device identifier is required");
        if (platform == null) throw new IllegalArgumentException("device " + identifier + ": platform is required");
        if (source == null || source.isBlank()) throw new IllegalArgumentException("device " + identifier + ": source is required");
    }
}
