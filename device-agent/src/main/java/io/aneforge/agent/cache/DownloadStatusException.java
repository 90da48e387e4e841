package io.aneforge.agent.cache;

import java.io.IOException;

/** A download answered with an HTTP status other than 200 (after redirects); the message names the URL and status. */
public final class DownloadStatusException extends IOException {

    private final int status;

    public DownloadStatusException(String message, int status) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }

    /**
     * 404 and 410: the registry (or its blob store) does not have the blob, which another try will not change.
     * Anything else (5xx, 429, a 401/403 from a token or presigned URL problem, a proxy's odd answer) may pass.
     */
    public Fault fault() {
        return status == 404 || status == 410 ? Fault.ARTIFACT : Fault.TRANSFER;
    }
}
