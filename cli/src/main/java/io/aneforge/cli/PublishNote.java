package io.aneforge.cli;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * What {@code publish --dir} notes in the directory while a version it created is not finished yet: the registry,
 * the model, the draft's number and the kind of run ({@link #PUBLISH} or {@link #DRAFT}). The note is written as
 * soon as the version exists and deleted once the run ends as asked (published, or kept as a draft on purpose), so a
 * note that is still there says that run failed. A later run reuses only a draft its note names, made by the same
 * kind of run: the registry has no place to mark a version as "left by a failed publish", and without the note a
 * draft kept on purpose with {@code --draft} would look like a failed publish's and get published.
 *
 * @param registry the registry's base URL
 * @param kind {@link #PUBLISH} ({@code publish --dir}) or {@link #DRAFT} ({@code publish --dir --draft})
 */
record PublishNote(String registry, String model, int version, String kind) {

    static final String FILE_NAME = ".aneforge-publish.json";
    static final String PUBLISH = "publish";
    static final String DRAFT = "draft";

    private static final JsonMapper JSON = JsonMapper.builder().build();

    static Path file(Path dir) {
        return dir.resolve(FILE_NAME);
    }

    /** The note in {@code dir}, or empty when there is none or it cannot be read (then nothing is reused). */
    static Optional<PublishNote> read(Path dir) {
        Path f = file(dir);
        if (!Files.isRegularFile(f)) return Optional.empty();
        try {
            PublishNote n = JSON.readValue(f.toFile(), PublishNote.class);
            return n.registry() == null || n.model() == null || n.kind() == null ? Optional.empty() : Optional.of(n);
        } catch (JacksonException e) {
            return Optional.empty();
        }
    }

    /** Whether this note names a draft a run of {@code kind} of {@code model} on {@code registry} left behind. */
    boolean leftBy(String registry, String model, String kind) {
        return this.registry.equals(registry) && this.model.equals(model) && this.kind.equals(kind);
    }

    /** Writes the note (replacing any other): whole or not at all, so a crash never leaves half a note. */
    void write(Path dir) throws IOException {
        Path tmp = dir.resolve(FILE_NAME + ".tmp");
        Files.write(tmp, JSON.writeValueAsBytes(this));
        try {
            Files.move(tmp, file(dir), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file(dir), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    static void delete(Path dir) throws IOException {
        Files.deleteIfExists(file(dir));
    }
}
