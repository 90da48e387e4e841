package io.aneforge.model;

import java.nio.file.Path;
import java.util.List;

/**
 * A head kind chosen whose tensors the checkpoint does not hold, all of them ({@link AbsentHeadException}) or some
 * ({@link MissingHeadTensorsException}). What the two share: the message's shape ({@code --head <kind>: <problem>:
 * <way out>}, worded for {@code convert}) and the parts that let {@code eval} and a publisher word it their way.
 * Callers catch the two types apart, as their ways out differ.
 */
public abstract class HeadNotInCheckpointException extends ModelImportException {
    private final Path file;
    private final TaskHead.Kind kind;
    private final String architecture;
    private final List<String> missing;
    private final String problem;

    HeadNotInCheckpointException(Path file, TaskHead.Kind kind, String architecture, List<String> missing,
            String problem, String convertWayOut) {
        super(file, "--head " + kind.id() + ": " + problem + ": " + convertWayOut);
        this.file = file;
        this.kind = kind;
        this.architecture = architecture;
        this.missing = List.copyOf(missing);
        this.problem = problem;
    }

    /** The weights file (null when there is none to name). */
    public Path file() {
        return file;
    }

    /** The head kind chosen. */
    public TaskHead.Kind kind() {
        return kind;
    }

    /** The config.json {@code architectures} entry the problem names. */
    public String architecture() {
        return architecture;
    }

    /** The canonical names of the head's tensors the checkpoint lacks, in the order the head reads them. */
    public List<String> missing() {
        return missing;
    }

    /** What is wrong, without a way out (the message without its {@code --head} prefix and {@code convert}'s fix). */
    public String problem() {
        return problem;
    }
}
