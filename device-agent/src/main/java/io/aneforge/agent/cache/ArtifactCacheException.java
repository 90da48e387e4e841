package io.aneforge.agent.cache;

/** An artifact could not be fetched, verified or unpacked; the message names the artifact and the rule. */
public class ArtifactCacheException extends RuntimeException {

    public ArtifactCacheException(String message) {
        super(message);
    }

    public ArtifactCacheException(String message, Throwable cause) {
        super(message, cause);
    }
}
