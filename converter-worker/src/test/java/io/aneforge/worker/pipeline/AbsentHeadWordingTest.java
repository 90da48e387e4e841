package io.aneforge.worker.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.model.AbsentHeadException;
import io.aneforge.model.TaskHead;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A conversion's {@code head} naming a kind whose tensors the checkpoint lacks entirely fails at import in the
 * publisher's terms (the conversion's {@code head} field), not convert's {@code --head}.
 */
class AbsentHeadWordingTest {
    @Test
    void namesTheHeadFieldAndTheMissingTensors() {
        AbsentHeadException e = new AbsentHeadException(Path.of("/snap/model.safetensors"), TaskHead.Kind.MASKED_LM,
                "MPNetForMaskedLM", List.of("lm_head.dense.weight", "lm_head.bias"));
        assertThat(e.getMessage()).contains("--head fill-mask", "pass --head none");
        assertThat(ModelCache.inPublishersTerms(e)).isEqualTo(Path.of("/snap/model.safetensors") + ": head 'fill-mask':"
                + " config.json names MPNetForMaskedLM, but this checkpoint holds none of its fill-mask head's tensors"
                + " (missing: lm_head.dense.weight, lm_head.bias): its weights are the base model's alone: publish the"
                + " version again with head 'none' to convert the base model, or from weights that carry the head")
                .doesNotContain("--head");
    }
}
