package io.aneforge.model;

import java.nio.file.Path;
import java.util.List;

/**
 * The task head to import is not clear: config.json's {@code architectures} name two head kinds and no
 * {@link HeadChoice} picks one, or the chosen kind is not among them. The model files are fine; the fix is the choice
 * ({@code convert --head}), which the message names.
 */
public class HeadChoiceException extends ModelImportException {
    private final List<String> architectures;

    public HeadChoiceException(Path file, String message, List<String> architectures) {
        super(file, message);
        this.architectures = List.copyOf(architectures);
    }

    /**
     * config.json's {@code architectures}: what a caller whose head kind came from elsewhere than {@code --head} (eval:
     * the package's {@code aneforge.task}) names in its own words.
     */
    public List<String> architectures() {
        return architectures;
    }
}
