package io.aneforge.model;

import java.io.IOException;
import java.nio.file.Path;

/** A model's config or weights do not match a supported architecture; names the file and the rule. */
public class ModelImportException extends IOException {
    public ModelImportException(Path file, String message) {
        super((file == null ? "" : file + ": ") + message);
    }
}
