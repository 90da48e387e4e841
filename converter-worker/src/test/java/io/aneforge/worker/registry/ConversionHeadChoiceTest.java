package io.aneforge.worker.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.model.HeadChoice;
import io.aneforge.model.TaskHead;
import io.aneforge.worker.registry.RegistryModels.Conversion;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A conversion's {@code head} as the worker imports it: what {@code convert --head} would choose. */
class ConversionHeadChoiceTest {

    private static Conversion withHead(String head) {
        return new Conversion(1, "m", 1, null, "queued", null, List.of("M2"), "default", 128, head, null, 0, 3, null,
                null, null, null, List.of());
    }

    @Test
    void aRegistryBeforeV30SendsNoHeadAndTheHeadIsConverted() {
        assertThat(withHead(null).headChoice()).isEqualTo(HeadChoice.DEFAULT);
        assertThat(withHead("convert").headChoice()).isEqualTo(HeadChoice.DEFAULT);
    }

    @Test
    void noneAndAKindChooseAsConvertHeadDoes() {
        assertThat(withHead("none").headChoice()).isEqualTo(HeadChoice.NONE);
        assertThat(withHead("fill-mask").headChoice()).isEqualTo(HeadChoice.of(TaskHead.Kind.MASKED_LM));
        assertThat(withHead("token-classification").headChoice().kind()).isEqualTo(TaskHead.Kind.TOKEN_CLASSIFICATION);
        assertThat(withHead("pre-training").headChoice()).isEqualTo(HeadChoice.of(TaskHead.Kind.PRE_TRAINING));
    }

    @Test
    void aValueThisWorkerDoesNotKnowNamesTheConversionsHeadAndTheValuesNotACliFlag() {
        assertThatThrownBy(() -> withHead("drop").headChoice()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("conversion head 'drop' is not one this worker converts (convert, none,"
                        + " sequence-classification")
                .hasMessageContaining("upgrade the converter worker")
                .hasMessageNotContaining("--head");
    }
}
