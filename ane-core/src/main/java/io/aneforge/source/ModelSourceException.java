package io.aneforge.source;

import java.io.IOException;

/** A source string or directory is not a usable model snapshot; the message says what is missing and the fix. */
public class ModelSourceException extends IOException {
    public ModelSourceException(String message) {
        super(message);
    }

    /** With the failure it reports, for callers that word it for their own options. */
    public ModelSourceException(String message, Throwable cause) {
        super(message, cause);
    }
}
