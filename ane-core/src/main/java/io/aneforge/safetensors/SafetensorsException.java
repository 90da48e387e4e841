package io.aneforge.safetensors;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A safetensors file (or sharded index) breaks a rule of the format. The message names the
 * file, the tensor when there is one, and the rule; model files are untrusted input, so this
 * is a checked exception the caller must handle.
 */
public class SafetensorsException extends IOException {
    private final Path file;
    private final String tensor;

    public SafetensorsException(Path file, String tensor, String rule) {
        this(file, tensor, rule, null);
    }

    public SafetensorsException(Path file, String tensor, String rule, Throwable cause) {
        super(file + (tensor == null ? "" : ": tensor '" + tensor + "'") + ": " + rule, cause);
        this.file = file;
        this.tensor = tensor;
    }

    public Path file() {
        return file;
    }

    /** The offending tensor, or null when the rule concerns the whole file. */
    public String tensor() {
        return tensor;
    }
}
