package io.aneforge.testsupport.models;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Tiny random models written exactly as the Hub publishes them (config.json, model.safetensors
 * with checkpoint names and layouts, tokenizer.json), for fast tests of import and conversion.
 * Same seed, same bytes.
 */
public final class TinyModels {
    /** Dimensions of the tiny BERT: hidden 32, 2 layers, 4 heads, intermediate 64, 64 positions. */
    public static final int HIDDEN = 32;
    public static final int LAYERS = 2;
    public static final int HEADS = 4;
    public static final int INTERMEDIATE = 64;
    public static final int POSITIONS = 64;

    private TinyModels() {
    }

    /** A BertModel snapshot (names without prefix, like sentence-transformers checkpoints). */
    public static Path bert(Path dir, long seed) throws IOException {
        return bert(dir, seed, "");
    }

    /**
     * A BERT snapshot whose tensor names carry {@code prefix} (e.g. "bert." as a BertForPreTraining checkpoint has
     * them; its pre-training heads are left out, so import it with {@code HeadChoice.NONE}: the config still names
     * BertForPreTraining).
     */
    public static Path bert(Path dir, long seed, String prefix) throws IOException {
        return bert(dir, seed, prefix, INTERMEDIATE);
    }

    /**
     * A BERT snapshot with FFN width {@code intermediate}: above 64 the FFN projections have more than
     * 2048 elements, so quantized precisions quantize them (at 64 they stay FP16, like the attention ones).
     */
    public static Path bert(Path dir, long seed, String prefix, int intermediate) throws IOException {
        return bert(dir, seed, prefix, intermediate, TinyTokenizers.wordPieceVocab().size(),
                prefix.isEmpty() ? "BertModel" : "BertForPreTraining", (st, random) -> { });
    }

    /**
     * A BertForMaskedLM snapshot ("bert." prefix, the {@code cls.predictions} head, its decoder tied to the word
     * embeddings and so saved once, as transformers saves it) whose vocabulary has {@code vocab} rows: the tiny
     * WordPiece tokenizer's ids and, beyond them, rows no text reaches. From {@code HeldPositions.MIN_WIDTH} (8192)
     * rows on, golden format 3 holds its logits at some positions only, as it does a real BERT's.
     */
    public static Path maskedLm(Path dir, long seed, int vocab) throws IOException {
        if (vocab < TinyTokenizers.wordPieceVocab().size()) {
            throw new IllegalArgumentException("the vocabulary must hold the tokenizer's " + TinyTokenizers.wordPieceVocab()
                    .size() + " tokens: " + vocab);
        }
        int h = HIDDEN;
        return bert(dir, seed, "bert.", INTERMEDIATE, vocab, "BertForMaskedLM", (st, random) -> {
            add(st, random, "cls.predictions.transform.dense.weight", h, h);
            add(st, random, "cls.predictions.transform.dense.bias", h);
            addNorm(st, "cls.predictions.transform.LayerNorm", h);
            add(st, random, "cls.predictions.bias", vocab);
        });
    }

    /** A BERT snapshot of {@code vocab} rows named {@code architecture}, with {@code head}'s tensors too. */
    private static Path bert(Path dir, long seed, String prefix, int intermediate, int vocabRows, String architecture,
                             java.util.function.BiConsumer<RawSafetensors, SplittableRandom> head) throws IOException {
        Files.createDirectories(dir);
        SplittableRandom random = new SplittableRandom(seed);
        RawSafetensors st = new RawSafetensors();
        int h = HIDDEN;
        add(st, random, prefix + "embeddings.word_embeddings.weight", vocabRows, h);
        add(st, random, prefix + "embeddings.position_embeddings.weight", POSITIONS, h);
        add(st, random, prefix + "embeddings.token_type_embeddings.weight", 2, h);
        addNorm(st, prefix + "embeddings.LayerNorm", h);
        for (int i = 0; i < LAYERS; i++) {
            String p = prefix + "encoder.layer." + i + ".";
            for (String proj : List.of("attention.self.query", "attention.self.key", "attention.self.value",
                    "attention.output.dense")) {
                add(st, random, p + proj + ".weight", h, h);
                add(st, random, p + proj + ".bias", h);
            }
            addNorm(st, p + "attention.output.LayerNorm", h);
            add(st, random, p + "intermediate.dense.weight", intermediate, h);
            add(st, random, p + "intermediate.dense.bias", intermediate);
            add(st, random, p + "output.dense.weight", h, intermediate);
            add(st, random, p + "output.dense.bias", h);
            addNorm(st, p + "output.LayerNorm", h);
        }
        add(st, random, prefix + "pooler.dense.weight", h, h);
        add(st, random, prefix + "pooler.dense.bias", h);
        head.accept(st, random);
        st.metadata("{\"format\":\"pt\"}").write(dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"), String.format(Locale.ROOT, """
                {
                  "architectures": ["%s"],
                  "model_type": "bert",
                  "vocab_size": %d,
                  "hidden_size": %d,
                  "num_hidden_layers": %d,
                  "num_attention_heads": %d,
                  "intermediate_size": %d,
                  "max_position_embeddings": %d,
                  "type_vocab_size": 2,
                  "layer_norm_eps": 1e-12,
                  "hidden_act": "gelu",
                  "pad_token_id": 0
                }
                """, architecture, vocabRows, h, LAYERS, HEADS, intermediate, POSITIONS), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("tokenizer.json"), TinyTokenizers.wordPieceJson(), StandardCharsets.UTF_8);
        return dir;
    }

    /** A GPT2LMHeadModel snapshot: "transformer." prefix, Conv1D weights [in, out], tied lm_head omitted. */
    public static Path gpt2(Path dir, long seed) throws IOException {
        Files.createDirectories(dir);
        int vocab = TinyTokenizers.byteLevelVocabSize();
        SplittableRandom random = new SplittableRandom(seed);
        RawSafetensors st = new RawSafetensors();
        int h = HIDDEN;
        String t = "transformer.";
        add(st, random, t + "wte.weight", vocab, h);
        add(st, random, t + "wpe.weight", POSITIONS, h);
        for (int i = 0; i < LAYERS; i++) {
            String p = t + "h." + i + ".";
            addNorm(st, p + "ln_1", h);
            add(st, random, p + "attn.c_attn.weight", h, 3 * h);
            add(st, random, p + "attn.c_attn.bias", 3 * h);
            add(st, random, p + "attn.c_proj.weight", h, h);
            add(st, random, p + "attn.c_proj.bias", h);
            addNorm(st, p + "ln_2", h);
            add(st, random, p + "mlp.c_fc.weight", h, 4 * h);
            add(st, random, p + "mlp.c_fc.bias", 4 * h);
            add(st, random, p + "mlp.c_proj.weight", 4 * h, h);
            add(st, random, p + "mlp.c_proj.bias", h);
        }
        addNorm(st, t + "ln_f", h);
        st.metadata("{\"format\":\"pt\"}").write(dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"), String.format(Locale.ROOT, """
                {
                  "architectures": ["GPT2LMHeadModel"],
                  "model_type": "gpt2",
                  "vocab_size": %d,
                  "n_embd": %d,
                  "n_layer": %d,
                  "n_head": %d,
                  "n_inner": null,
                  "n_positions": %d,
                  "layer_norm_epsilon": 1e-5,
                  "activation_function": "gelu_new"
                }
                """, vocab, h, LAYERS, HEADS, POSITIONS), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("tokenizer.json"), TinyTokenizers.byteLevelBpeJson(), StandardCharsets.UTF_8);
        return dir;
    }

    private static void add(RawSafetensors st, SplittableRandom random, String name, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextDouble() * 0.2 - 0.1);
        }
        st.f32(name, v, shape);
    }

    private static void addNorm(RawSafetensors st, String module, int h) {
        float[] ones = new float[h];
        java.util.Arrays.fill(ones, 1f);
        st.f32(module + ".weight", ones, h);
        st.f32(module + ".bias", new float[h], h);
    }

    static List<String> list(String... items) {
        return new ArrayList<>(List.of(items));
    }
}
