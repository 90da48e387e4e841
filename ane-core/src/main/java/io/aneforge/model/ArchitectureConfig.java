package io.aneforge.model;

import java.util.List;

/**
 * A parsed {@code config.json} of a supported architecture. Each architecture lists the
 * weights it needs in canonical form: Hub names without the task-head prefix ({@code bert.},
 * {@code transformer.}, ...) and projection weights {@code [out, in]} (the layout of
 * {@code torch.nn.Linear}; GPT-2's Conv1D {@code [in, out]} is transposed on import).
 *
 * <p>Parse with {@link ArchitectureConfigs#parse}.
 */
public sealed interface ArchitectureConfig permits BertConfig, DistilBertConfig, Gpt2Config, MpnetConfig {
    /** Largest accepted dimension: guards allocation against hostile configs (huge vocab etc.). */
    int MAX_DIMENSION = 1 << 20;
    int MAX_LAYERS = 1024;

    String modelType();

    /**
     * The model type whose task-head modules (names and computation) this one's heads have: transformers copies
     * RoBERTa's heads ({@code lm_head}, {@code classifier.dense}/{@code out_proj}) into XLM-RoBERTa, CamemBERT and
     * MPNet, so {@link TaskHead} knows them as {@code roberta}. The model type itself otherwise.
     */
    default String headFamily() {
        return modelType();
    }

    int vocabSize();

    int hiddenSize();

    int numLayers();

    int numHeads();

    int maxPositions();

    /**
     * The longest input sequence: {@link #maxPositions()} less the first position id (RoBERTa's positions start
     * at {@code pad_token_id + 1}, so 514 rows hold 512 tokens).
     */
    default int maxSequenceLength() {
        return maxPositions();
    }

    /** Every weight in canonical name and shape, in a stable order. */
    List<ExpectedTensor> expectedTensors();

    /** Prefixes task-head checkpoints put before base-model names ({@code bert.} for BertForMaskedLM). */
    List<String> checkpointPrefixes();

    /** True for checkpoint tensors that are not base-model weights (heads, buffers) and are dropped. */
    boolean isIgnored(String canonicalName);

    /**
     * True for a dropped tensor of a task head (a classifier, a masked-LM head): a computation of the checkpoint the
     * converted graphs do not have, unlike a buffer or a head tied to the embeddings (GPT-2's lm_head).
     */
    default boolean isTaskHead(String canonicalName) {
        return false;
    }

    /**
     * The value of an optional weight the checkpoint does not carry, computed as the reference implementation
     * initializes it, or null when a missing weight is simply absent (DistilBERT's sinusoidal position table).
     */
    default io.aneforge.tensor.FloatTensor computedWhenMissing(String canonicalName) {
        return null;
    }

    /** True when the checkpoint stores this weight {@code [in, out]} (GPT-2 Conv1D). */
    default boolean storedTransposed(String canonicalName) {
        return false;
    }

    static void checkDimension(String field, int value, int max) {
        if (value <= 0 || value > max) {
            throw new IllegalArgumentException("config field '" + field + "' = " + value + " must be in 1.." + max);
        }
    }
}
