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
 * {@link #problem} ("config.json names MPNetForMaskedLM, but this checkpoint holds none ...") their way;
 * {@link #architecture} is the entry that names the head, {@link #missing} all its required tensors.
 */
public class AbsentHeadException extends HeadNotInCheckpointException {
    public AbsentHeadException(Path file, TaskHead.Kind kind, String architecture, List<String> missing) {
        super(file, kind, architecture, missing, problem(kind, architecture, missing), "pass --head none to"
                + " convert the base model's hidden states, or use the weights saved with the head");
    }

    private static String problem(TaskHead.Kind kind, String architecture, List<String> missing) {
        return "config.json names " + architecture + ", but this checkpoint holds none of its " + kind.id()
                + " head's tensors (missing: " + String.join(", ", missing) + "): its weights are the base model's alone";
    }
}
