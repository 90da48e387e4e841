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
        st.f32("vocab_projector.bias", new float[50], 50); // MLM head: dropped with --head none
        st.write(dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("tokenizer.json"), TinyTokenizers.wordPieceJson());
        ImportedModel m = ModelImporter.importWeights(ModelSnapshot.of(dir, null), io.aneforge.model.HeadChoice.NONE);
        assertThat(m.weights()).hasSize(config.expectedTensors().size())
                .containsKey("transformer.layer.1.ffn.lin2.weight").doesNotContainKey("vocab_projector.bias");
        assertThat(m.droppedHeads()).containsExactly("vocab_projector");
        // converted by default: a masked-LM head without its transform is refused, naming what is missing
        assertThatThrownBy(() -> ModelImporter.importWeights(ModelSnapshot.of(dir, null)))
                .isInstanceOf(ModelImportException.class).hasMessageContaining("vocab_transform.weight");
    }

    private static final String DISTILBERT_SINUSOIDAL = """
            {"architectures": ["DistilBertModel"], "model_type": "distilbert", "vocab_size": 50, "dim": 16,
             "n_layers": 1, "n_heads": 2, "hidden_dim": 32, "max_position_embeddings": 20, "activation": "gelu",
             "sinusoidal_pos_embds": %s}
            """;

    /** A DistilBERT snapshot in {@link #dir} whose tensors hold 0.5, without the position table when {@code table} is false. */
    private ImportedModel importDistilBert(String sinusoidal, boolean table) throws Exception {
        Files.writeString(dir.resolve("config.json"), DISTILBERT_SINUSOIDAL.formatted(sinusoidal));
        ArchitectureConfig config = ArchitectureConfigs.parse(dir.resolve("config.json"));
        RawSafetensors st = new RawSafetensors();
        for (ExpectedTensor t : config.expectedTensors()) {
            if (table || !t.name().equals("embeddings.position_embeddings.weight")) {
                st.f32(t.name(), filled(t.shape(), 0.5f), toLong(t.shape()));
            }
        }
        st.write(dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("tokenizer.json"), TinyTokenizers.wordPieceJson());
        return ModelImporter.importWeights(ModelSnapshot.of(dir, null));
    }

    /**
     * transformers loads a checkpoint's position table over whatever {@code sinusoidal_pos_embds} initialized, so a
     * table that is not the sinusoids (here all 0.5) is used as it is, not replaced or refused.
     */
    @Test
    void distilBertSinusoidalFlagKeepsTheCheckpointsPositionTable() throws Exception {
        ImportedModel m = importDistilBert("true", true);
        assertThat(((DistilBertConfig) m.config()).sinusoidalPositions()).isTrue();
        assertThat(m.weight("embeddings.position_embeddings.weight").data()).containsOnly(0.5f);
    }

    /** Without the table, the sinusoids are computed as transformers' create_sinusoidal_embeddings computes them. */
    @Test
    void distilBertSinusoidalFlagComputesAMissingPositionTable() throws Exception {
        ImportedModel m = importDistilBert("true", false);
        io.aneforge.tensor.FloatTensor table = m.weight("embeddings.position_embeddings.weight");
        assertThat(table.shape()).containsExactly(20, 16);
        float[] t = table.data();
        assertThat(t[0]).isEqualTo(0f); // position 0: sin 0, cos 0
        assertThat(t[1]).isEqualTo(1f);
        assertThat(t[16]).isEqualTo((float) Math.sin(1)); // position 1, column 0: angle 1
        assertThat(t[17]).isEqualTo((float) Math.cos(1));
        // column 2j and 2j+1 share the angle pos / 10000^(2j/dim): position 3, columns 6 and 7 (j = 3)
        double angle = 3 / Math.pow(10000, 6 / 16.0);
        assertThat(t[3 * 16 + 6]).isEqualTo((float) Math.sin(angle));
        assertThat(t[3 * 16 + 7]).isEqualTo((float) Math.cos(angle));
        assertThat(m.weights().keySet()).as("in expectedTensors order, like a checkpoint that has it")
                .containsExactlyElementsOf(m.config().expectedTensors().stream().map(ExpectedTensor::name).toList());
        // the learned-position default still requires the table
        assertThatThrownBy(() -> importDistilBert("false", false)).isInstanceOf(ModelImportException.class)
                .hasMessageContaining("1 tensor(s) required by distilbert are missing: [embeddings.position_embeddings.weight]");
        assertThatThrownBy(() -> importDistilBert("\"yes\"", true)).isInstanceOf(ModelImportException.class)
                .hasMessageContaining("config field 'sinusoidal_pos_embds' = \"yes\" is not a boolean");
    }

    /**
     * The values transformers' create_sinusoidal_embeddings(512, 768) printed in huggingface/transformers issue 1226
     * (rows 1, 2 and 511, to the five digits shown there); the table was also checked bit for bit against numpy's
     * float64 computation rounded to float32 (the function's own arithmetic) for 512 x 768.
     */
    @Test
    void sinusoidsMatchTransformersPrintedTable() {
        float[] t = DistilBertConfig.sinusoids(512, 768).data();
        java.util.function.BiFunction<Integer, Integer, Float> at = (pos, j) -> t[pos * 768 + j];
        org.assertj.core.data.Offset<Float> printed = org.assertj.core.data.Offset.offset(0.00005f);
        assertThat(at.apply(0, 0)).isEqualTo(0f);
        assertThat(at.apply(0, 1)).isEqualTo(1f);
        assertThat(at.apply(1, 0)).isCloseTo(8.4147e-01f, printed);
        assertThat(at.apply(1, 1)).isCloseTo(5.4030e-01f, printed);
        assertThat(at.apply(1, 2)).isCloseTo(8.2843e-01f, printed);
        assertThat(at.apply(1, 766)).isCloseTo(1.0243e-04f, org.assertj.core.data.Offset.offset(0.00000005f));
        assertThat(at.apply(2, 0)).isCloseTo(9.0930e-01f, printed);
        assertThat(at.apply(2, 1)).isCloseTo(-4.1615e-01f, printed);
        assertThat(at.apply(2, 2)).isCloseTo(9.2799e-01f, printed);
        assertThat(at.apply(511, 0)).isCloseTo(8.8177e-01f, printed);
        assertThat(at.apply(511, 1)).isCloseTo(-4.7168e-01f, printed);
        assertThat(at.apply(511, 2)).isCloseTo(5.8419e-01f, printed);
        assertThat(at.apply(511, 766)).isCloseTo(5.2317e-02f, printed);
        assertThat(at.apply(511, 767)).isCloseTo(9.9863e-01f, printed);
        assertThat(at.apply(509, 0)).isCloseTo(6.1950e-02f, printed);
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

    /**
     * Keys whose non-default value changes what the model computes, and which the graph builders do not implement,
     * are refused naming the key, the value and what is supported (before this, each of these converted and the
     * packages computed another function than the checkpoint's).
     */
    @Test
    void functionChangingKeysAreRefusedWithTheKeyTheValueAndWhatIsSupported() throws Exception {
        String bert = MalformedInputTest.bertConfig(384, 12, 30522);
        String gpt2 = """
                {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": 50, "n_embd": 16,
                 "n_layer": 2, "n_head": 2, "n_positions": 32}""";
        java.util.Map<String, String> refused = new java.util.LinkedHashMap<>();
        refused.put(with(bert, "\"is_decoder\": true"), "config field 'is_decoder' = true is not supported: only"
                + " bidirectional encoders are implemented");
        refused.put(with(bert, "\"position_embedding_type\": \"relative_key\""), "config field 'position_embedding_type'"
                + " = \"relative_key\" is not supported: only \"absolute\"");
        refused.put(with(bert.replace("\"bert\"", "\"roberta\"").replace("BertModel", "RobertaModel"),
                "\"position_embedding_type\": \"relative_key_query\""), "'position_embedding_type' = \"relative_key_query\"");
        refused.put(with(bert, "\"add_cross_attention\": true"), "config field 'add_cross_attention' = true is not"
                + " supported: cross-attention layers need encoder inputs");
        refused.put(with(bert, "\"hidden_act\": \"silu\""), "config field 'hidden_act' = \"silu\" is not supported"
                + " (supported: gelu, gelu_python, gelu_new, gelu_pytorch_tanh, gelu_fast, relu)");
        refused.put(with(bert, "\"pruned_heads\": {\"0\": [1]}"), "config field 'pruned_heads' = {\"0\":[1]} is not"
                + " supported: models with pruned attention heads are not supported (supported: {})");
        refused.put(with(bert, "\"quantization_config\": {\"load_in_8bit\": true}"), "config field"
                + " 'quantization_config' is present ({\"load_in_8bit\":true}): quantized checkpoints are not supported");
        refused.put(with(bert, "\"is_decoder\": \"yes\""), "config field 'is_decoder' = \"yes\" is not a boolean");
        refused.put(with(gpt2, "\"tie_word_embeddings\": false"), "config field 'tie_word_embeddings' = false is not"
                + " supported: the logits are computed with the token embedding table wte");
        refused.put(with(gpt2, "\"add_cross_attention\": true"), "config field 'add_cross_attention' = true");
        refused.put(with(gpt2, "\"activation_function\": \"quick_gelu\""), "config field 'activation_function' ="
                + " \"quick_gelu\" is not supported (supported: gelu,");
        refused.put(with(gpt2, "\"scale_attn_weights\": 0"), "config field 'scale_attn_weights' = 0 is not a boolean");
        refused.put(with(gpt2, "\"reorder_and_upcast_attn\": \"true\""), "'reorder_and_upcast_attn' = \"true\" is not a"
                + " boolean");
        refused.put("""
                {"architectures": ["DistilBertModel"], "model_type": "distilbert", "vocab_size": 50, "dim": 16,
                 "n_layers": 2, "n_heads": 2, "hidden_dim": 32, "max_position_embeddings": 20, "activation": "silu"}""",
                "config field 'activation' = \"silu\" is not supported");
        for (java.util.Map.Entry<String, String> e : refused.entrySet()) {
            Files.writeString(dir.resolve("config.json"), e.getKey());
            assertThatThrownBy(() -> ArchitectureConfigs.parse(dir.resolve("config.json"))).as(e.getValue())
                    .isInstanceOf(ModelImportException.class)
                    .hasMessageStartingWith(dir.resolve("config.json") + ": ").hasMessageContaining(e.getValue());
        }
    }

    /** The defaults of those keys, as the Hub writes them, and keys that do not change inference, are accepted. */
    @Test
    void defaultValuesAndKeysThatDoNotChangeInferenceAreAccepted() throws Exception {
        String bert = with(MalformedInputTest.bertConfig(384, 12, 30522), "\"is_decoder\": false, \"add_cross_attention\":"
                + " false, \"position_embedding_type\": \"absolute\", \"pruned_heads\": {}, \"quantization_config\": null,"
                + " \"hidden_dropout_prob\": 0.1, \"initializer_range\": 0.02, \"use_cache\": true, \"torch_dtype\":"
                + " \"float16\", \"chunk_size_feed_forward\": 0, \"classifier_dropout\": null, \"hidden_act\": \"gelu_new\"");
        Files.writeString(dir.resolve("config.json"), bert);
        assertThat(((BertConfig) ArchitectureConfigs.parse(dir.resolve("config.json"))).hiddenAct()).isEqualTo("gelu_new");
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": 50, "n_embd": 16,
                 "n_layer": 3, "n_head": 4, "n_positions": 32, "n_ctx": 32, "tie_word_embeddings": true,
                 "reorder_and_upcast_attn": true, "scale_attn_weights": false, "scale_attn_by_inverse_layer_idx": true,
                 "attn_pdrop": 0.1, "summary_type": "cls_index", "bos_token_id": 0, "eos_token_id": 0}
                """);
        Gpt2Config g = (Gpt2Config) ArchitectureConfigs.parse(dir.resolve("config.json"));
        assertThat(g.scaleAttnWeights()).isFalse();
        assertThat(g.scaleAttnByInverseLayerIdx()).isTrue();
        assertThat(g.attentionScale(0)).isEqualTo(1.0);
        assertThat(g.attentionScale(2)).isEqualTo(1.0 / 3);
        Gpt2Config plain = new Gpt2Config(50, 16, 3, 4, 64, 32, 1e-5, "gelu_new");
        assertThat(plain.attentionScale(2)).isEqualTo(0.5); // 1/sqrt(16/4)
    }

    /** {@code json} (an object) with {@code fields} added at its end. */
    private static String with(String json, String fields) {
        String trimmed = json.strip();
        return trimmed.substring(0, trimmed.length() - 1) + ", " + fields + "}";
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
