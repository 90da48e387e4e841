package io.aneforge.model;

import java.nio.file.Path;
import java.util.List;

/**
 * A head that a choice took beyond what config.json's {@code architectures} name ({@code --head pre-training} on a
 * {@code BertForMaskedLM} config: the class name is a hint, the weights decide) lacks tensors in the checkpoint. Its
 * own class because the way out depends on who chose: {@code convert} drops {@code --head}, {@code eval} (whose head
 * came from the package's {@code aneforge.task}) needs the source the package was converted from, a publisher sets
 * the conversion's {@code head} field. The message is {@code convert}'s; the others word {@link #problem} their way.
 */
public class MissingHeadTensorsException extends ModelImportException {
    private final Path file;
    private final TaskHead.Kind kind;
    private final String architecture;
    private final List<String> missing;

    public MissingHeadTensorsException(Path file, TaskHead.Kind kind, String architecture, List<String> missing) {
        super(file, "--head " + kind.id() + ": " + problem(architecture, missing) + ": drop --head to convert the"
                + " masked-LM head alone (fill-mask), or use weights that carry the next-sentence head");
        this.file = file;
        this.kind = kind;
        this.architecture = architecture;
        this.missing = List.copyOf(missing);
    }

    private static String problem(String architecture, List<String> missing) {
        return "config.json names " + architecture + ", and this checkpoint lacks the next-sentence head's tensors "
                + String.join(", ", missing) + " (a checkpoint saved from BertForPreTraining, such as"
                + " bert-base-uncased's, has them)";
    }

    /** The weights file (null when there is none to name). */
    public Path file() {
        return file;
    }

    /** The head kind chosen ({@link TaskHead.Kind#PRE_TRAINING}). */
    public TaskHead.Kind kind() {
        return kind;
    }

    /** The {@code architectures} entry the choice went beyond ({@code BertForMaskedLM}). */
    public String architecture() {
        return architecture;
    }

    /** The canonical names of the tensors the checkpoint lacks, in the order the head reads them. */
    public List<String> missing() {
        return missing;
    }

    /** What is wrong, without a way out: "config.json names BertForMaskedLM, and this checkpoint lacks ...". */
    public String problem() {
        return problem(architecture, missing);
    }
}
