package io.aneforge.model;

import java.nio.file.Path;
import java.util.List;

/**
 * A head kind chosen explicitly ({@code convert --head fill-mask}) whose tensors are all absent from the checkpoint:
 * config.json names the head, the weights are the base model's alone (all-mpnet-base-v2's config names
 * {@code MPNetForMaskedLM}, its checkpoint is {@code MPNetModel}'s). The default choice imports the base model then
 * and says so ({@link ImportedModel#absentHead}); a head asked for by name is refused, as converting it is impossible.
 * Its own class because the model files are fine and the way out depends on who chose: {@code convert} passes
 * {@code --head none}, {@code eval} (whose head came from the package) needs the source the package was converted from,
 * a publisher sets the conversion's {@code head} field. The message is {@code convert}'s; the others word
 * {@link #problem} their way.
 */
public class AbsentHeadException extends ModelImportException {
    private final Path file;
    private final TaskHead.Kind kind;
    private final String architecture;
    private final List<String> missing;

    public AbsentHeadException(Path file, TaskHead.Kind kind, String architecture, List<String> missing) {
        super(file, "--head " + kind.id() + ": " + problem(kind, architecture, missing) + ": pass --head none to"
                + " convert the base model's hidden states, or use the weights saved with the head");
        this.file = file;
        this.kind = kind;
        this.architecture = architecture;
        this.missing = List.copyOf(missing);
    }

    private static String problem(TaskHead.Kind kind, String architecture, List<String> missing) {
        return "config.json names " + architecture + ", but this checkpoint holds none of its " + kind.id()
                + " head's tensors (missing: " + String.join(", ", missing) + "): its weights are the base model's alone";
    }

    /** The weights file (null when there is none to name). */
    public Path file() {
        return file;
    }

    /** The head kind chosen. */
    public TaskHead.Kind kind() {
        return kind;
    }

    /** The {@code architectures} entry that names the head ({@code MPNetForMaskedLM}). */
    public String architecture() {
        return architecture;
    }

    /** The canonical names of the head's required tensors, all absent from the checkpoint. */
    public List<String> missing() {
        return missing;
    }

    /** What is wrong, without a way out: "config.json names MPNetForMaskedLM, but this checkpoint holds none ...". */
    public String problem() {
        return problem(kind, architecture, missing);
    }
}
