package io.aneforge.model;

import java.nio.file.Path;

/**
 * The task head to import is not clear: config.json's {@code architectures} name two head kinds and no
 * {@link HeadChoice} picks one, or the chosen kind is not among them. The model files are fine; the fix is the choice
 * ({@code convert --head}), which the message names.
 */
public class HeadChoiceException extends ModelImportException {
    public HeadChoiceException(Path file, String message) {
        super(file, message);
    }
}
