package io.aneforge.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.source.ModelSnapshot;
import io.aneforge.testsupport.models.RawSafetensors;
import io.aneforge.testsupport.models.TinyTokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArchitectureConfigTest {
    @TempDir
    Path dir;

    @Test
    void distilBertWithHeadPrefixImportsAndDropsTheHead() throws Exception {
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["DistilBertForMaskedLM"], "model_type": "distilbert", "vocab_size": 50,
                 "dim": 16, "n_layers": 2, "n_heads": 2, "hidden_dim": 32, "max_position_embeddings": 20,
                 "activation": "gelu"}
                """);
        ArchitectureConfig config = ArchitectureConfigs.parse(dir.resolve("config.json"));
        assertThat(config).isEqualTo(new DistilBertConfig(50, 16, 2, 2, 32, 20, "gelu"));
        RawSafetensors st = new RawSafetensors();
        for (ExpectedTensor t : config.expectedTensors()) {
            st.f32("distilbert." + t.name(), filled(t.shape(), 0.5f), toLong(t.shape()));
        }
        st.f32("vocab_projector.bias", new float[50], 50); // MLM head: dropped
        st.write(dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("tokenizer.json"), TinyTokenizers.wordPieceJson());
        ImportedModel m = ModelImporter.importWeights(ModelSnapshot.of(dir, null));
        assertThat(m.weights()).hasSize(config.expectedTensors().size())
                .containsKey("transformer.layer.1.ffn.lin2.weight").doesNotContainKey("vocab_projector.bias");
    }

    @Test
    void robertaUsesPaddingOffsetPositions() throws Exception {
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["RobertaModel"], "model_type": "roberta", "vocab_size": 50265, "hidden_size": 768,
                 "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072,
                 "max_position_embeddings": 514, "type_vocab_size": 1, "layer_norm_eps": 1e-05, "pad_token_id": 1}
                """);
        BertConfig c = (BertConfig) ArchitectureConfigs.parse(dir.resolve("config.json"));
        assertThat(c.positionOffset()).isEqualTo(2);
        assertThat(c.modelType()).isEqualTo("roberta");
        assertThat(c.expectedTensors().get(1).shape()).containsExactly(514, 768);
    }

    @Test
    void unsupportedModelListsTheSupportedOnes() throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"t5\", \"architectures\": [\"T5Model\"]}");
        assertThatThrownBy(() -> ArchitectureConfigs.parse(dir.resolve("config.json")))
                .isInstanceOf(ModelImportException.class)
                .hasMessageContaining("unsupported model: model_type 't5'")
                .hasMessageContaining("bert=[BertModel").hasMessageContaining("gpt2=[GPT2Model, GPT2LMHeadModel]");
    }

    private static float[] filled(int[] shape, float v) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] a = new float[(int) n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    private static long[] toLong(int[] shape) {
        return java.util.Arrays.stream(shape).asLongStream().toArray();
    }
}
