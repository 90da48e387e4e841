package io.aneforge.model;

import java.nio.file.Path;
import java.util.List;

/**
 * A head that a choice took beyond what config.json's {@code architectures} name ({@code --head pre-training} on a
 * {@code BertForMaskedLM} config: the class name is a hint, the weights decide) lacks tensors in the checkpoint. Its
 * own class because the way out depends on who chose: {@code convert} drops {@code --head}, {@code eval} (whose head
 * came from the package's {@code aneforge.task}) needs the source the package was converted from, a publisher sets
 * the conversion's {@code head} field. The message is {@code convert}'s; the others word {@link #problem}
 * ("config.json names BertForMaskedLM, and this checkpoint lacks ...") their way; {@link #kind} is
 * {@link TaskHead.Kind#PRE_TRAINING}, {@link #architecture} the entry the choice went beyond.
 */
public class MissingHeadTensorsException extends HeadNotInCheckpointException {
    public MissingHeadTensorsException(Path file, TaskHead.Kind kind, String architecture, List<String> missing) {
        super(file, kind, architecture, missing, problem(architecture, missing), "drop --head to convert the"
                + " masked-LM head alone (fill-mask), or use weights that carry the next-sentence head");
    }

    private static String problem(String architecture, List<String> missing) {
        return "config.json names " + architecture + ", and this checkpoint lacks the next-sentence head's tensors "
                + String.join(", ", missing) + " (a checkpoint saved from BertForPreTraining, such as"
                + " bert-base-uncased's, has them)";
    }
}
