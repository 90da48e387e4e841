package io.aneforge.agent.cache;

import java.nio.file.Path;

/**
 * A verified, unpacked artifact in the cache.
 *
 * @param sha256Hex the digest the bytes were verified against
 * @param packageRoot the {@code model.mlpackage} directory holding {@code Manifest.json}
 * @param sizeBytes bytes the entry occupies on disk (unpacked)
 */
public record CachedArtifact(String sha256Hex, Path packageRoot, long sizeBytes) {}
