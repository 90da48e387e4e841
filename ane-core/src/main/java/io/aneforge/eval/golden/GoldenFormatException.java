package io.aneforge.eval.golden;

import java.io.IOException;

/** A golden-outputs blob that is not in the expected format (wrong magic/version, truncated, corrupt). */
public class GoldenFormatException extends IOException {
    public GoldenFormatException(String message) {
        super(message);
    }
}
