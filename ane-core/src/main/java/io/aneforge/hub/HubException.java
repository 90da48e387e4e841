package io.aneforge.hub;

import java.io.IOException;

/** A Hub operation failed; {@link #kind()} tells callers which of the distinct failures it was. */
public class HubException extends IOException {
    /** The failures a caller may want to handle differently. */
    public enum Kind {
        /** 401 or RepoNotFound: the repo does not exist, or it is private and the token cannot see it. */
        REPO_NOT_FOUND_OR_PRIVATE,
        /** 403 GatedRepo: the token's user has not accepted the model's terms. */
        GATED,
        /** The branch, tag or commit does not exist. */
        REVISION_NOT_FOUND,
        /** The file does not exist at that revision. */
        ENTRY_NOT_FOUND,
        /** Downloaded bytes do not match the Hub's size or hash. */
        INTEGRITY,
        /** The Hub could not be reached (DNS, connect, timeouts after retries). */
        NO_NETWORK,
        /** {@code HF_HUB_OFFLINE=1} and the file or revision is not in the cache. */
        OFFLINE_NOT_CACHED,
        /** Any other unexpected HTTP status. */
        HTTP
    }

    private final Kind kind;

    public HubException(Kind kind, String message) {
        this(kind, message, null);
    }

    public HubException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
