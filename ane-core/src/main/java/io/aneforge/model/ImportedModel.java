package io.aneforge.model;

import io.aneforge.tensor.FloatTensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An architecture and its weights, checked against each other: canonical Hub names (no head
 * prefix), projections {@code [out, in]}, all finite, in {@link ArchitectureConfig#expectedTensors} order.
 *
 * @param droppedHeads the task heads of the checkpoint that are not imported (their module names, e.g.
 *     {@code classifier}, {@code cls}), in checkpoint order: what the converted model does not compute
 * @param head the task head whose weights are imported (under their canonical names, {@code classifier.weight}) and
 *     that the graph builders convert, null for the base model's outputs
 * @param tokenTypeInput whether the converted programs take a {@code token_type_ids} input (the segment of each
 *     token, for sentence pairs; {@link #withTokenTypeInput}); false: every token is segment 0
 * @param absentHead the {@code architectures} entry whose head config.json names but whose checkpoint holds none of
 *     that head's tensors, so the base model was imported ({@code MPNetForMaskedLM} over all-mpnet-base-v2's
 *     {@code MPNetModel} weights): what the converted model does not compute although config.json says so. Null
 *     otherwise (only the default head choice imports the base model so; a {@code --head} kind is refused)
 */
public record ImportedModel(ArchitectureConfig config, Map<String, FloatTensor> weights, String commit,
                            List<String> droppedHeads, TaskHead head, boolean tokenTypeInput, String absentHead) {
    public ImportedModel {
        if (config == null || weights == null) {
            throw new IllegalStateException("imported model needs a config and weights");
        }
        weights = Collections.unmodifiableMap(new LinkedHashMap<>(weights));
        droppedHeads = droppedHeads == null ? List.of() : List.copyOf(droppedHeads);
    }

    /** A model as imported with the head its checkpoint holds (or none). */
    public ImportedModel(ArchitectureConfig config, Map<String, FloatTensor> weights, String commit,
                         List<String> droppedHeads, TaskHead head, boolean tokenTypeInput) {
        this(config, weights, commit, droppedHeads, head, tokenTypeInput, null);
    }

    /** A model whose checkpoint had no task head beside the base model. */
    public ImportedModel(ArchitectureConfig config, Map<String, FloatTensor> weights, String commit) {
        this(config, weights, commit, List.of(), null, false);
    }

    /** A base model whose checkpoint's task heads, if any, are dropped. */
    public ImportedModel(ArchitectureConfig config, Map<String, FloatTensor> weights, String commit,
                         List<String> droppedHeads) {
        this(config, weights, commit, droppedHeads, null, false);
    }

    /** A model as imported: every token is segment 0 (no {@code token_type_ids} input). */
    public ImportedModel(ArchitectureConfig config, Map<String, FloatTensor> weights, String commit,
                         List<String> droppedHeads, TaskHead head) {
        this(config, weights, commit, droppedHeads, head, false);
    }

    /**
     * The model with a {@code token_type_ids} input ({@code convert --token-types}): the programs gather each token's
     * segment row of {@code token_type_embeddings} instead of adding row 0 to every position, so a sentence pair
     * (a cross-encoder's query and passage) can be fed as BERT was trained on it.
     *
     * @throws IllegalArgumentException when the model has no second segment: a DistilBERT or GPT-2 model has no
     *     token types, a RoBERTa-style one has a single row ({@code type_vocab_size} 1)
     */
    public ImportedModel withTokenTypeInput() {
        int types = config instanceof BertConfig b ? b.typeVocabSize() : 0;
        if (types < 2) {
            throw new IllegalArgumentException("this " + config.modelType() + " model has "
                    + (types == 0 ? "no token types" : "one token type (type_vocab_size 1 in config.json)")
                    + ", so there is no second segment to feed: convert it without token types");
        }
        return new ImportedModel(config, weights, commit, droppedHeads, head, true, absentHead);
    }

    /**
     * The base model without its task head ({@code convert --head none}): the head's weights are left out and its
     * modules join {@link #droppedHeads}; the outputs are the hidden states again. This model when it has no head.
     */
    public ImportedModel withoutHead() {
        if (head == null) {
            return this;
        }
        List<String> modules = head.modules(config.headFamily());
        Map<String, FloatTensor> base = new LinkedHashMap<>();
        weights.forEach((name, t) -> {
            if (modules.stream().noneMatch(m -> name.startsWith(m + "."))) {
                base.put(name, t);
            }
        });
        java.util.Set<String> dropped = new java.util.LinkedHashSet<>(droppedHeads);
        dropped.addAll(modules);
        return new ImportedModel(config, base, commit, List.copyOf(dropped), null, tokenTypeInput, absentHead);
    }

    public FloatTensor weight(String name) {
        FloatTensor t = weights.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no weight '" + name + "' in this " + config.modelType() + " model");
        }
        return t;
    }
}
