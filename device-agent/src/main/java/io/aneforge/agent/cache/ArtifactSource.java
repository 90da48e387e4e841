package io.aneforge.agent.cache;

import java.io.IOException;
import java.io.InputStream;

/**
 * Where artifact bytes come from (the registry's download URL, later through the registry
 * client). The cache verifies the digest; a source only streams bytes.
 */
@FunctionalInterface
public interface ArtifactSource {

    /** Opens the artifact's bytes; the caller closes the stream. */
    InputStream open(ArtifactRef ref) throws IOException;
}
