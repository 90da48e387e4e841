package io.aneforge.model;

import java.util.ArrayList;
import java.util.List;

/**
 * BERT family encoder: BERT, sentence-transformers MiniLM, RoBERTa, and RoBERTa's code under other model types:
 * XLM-RoBERTa ({@code xlm-roberta}: multilingual-e5, bge-m3) and CamemBERT ({@code camembert}), whose transformers
 * modules are RoBERTa's copied ("Copied from transformers.models.roberta"), with the same weight names under the same
 * {@code roberta.} prefix. {@code positionOffset} is RoBERTa's position-id start ({@code pad_token_id + 1}); 0 for
 * BERT.
 */
public record BertConfig(String modelType, int vocabSize, int hiddenSize, int numLayers, int numHeads,
                         int intermediateSize, int maxPositions, int typeVocabSize, double layerNormEps,
                         String hiddenAct, int positionOffset) implements ArchitectureConfig {
    /** The model types that run RoBERTa's modeling code: position offsets, {@code roberta.} prefix, RoBERTa's heads. */
    public static final java.util.Set<String> ROBERTA_TYPES = java.util.Set.of("roberta", "xlm-roberta", "camembert");

    public BertConfig {
        ArchitectureConfig.checkDimension("vocab_size", vocabSize, MAX_DIMENSION);
        ArchitectureConfig.checkDimension("hidden_size", hiddenSize, MAX_DIMENSION);
        ArchitectureConfig.checkDimension("num_hidden_layers", numLayers, MAX_LAYERS);
        ArchitectureConfig.checkDimension("num_attention_heads", numHeads, hiddenSize);
        ArchitectureConfig.checkDimension("intermediate_size", intermediateSize, MAX_DIMENSION);
        ArchitectureConfig.checkDimension("max_position_embeddings", maxPositions, MAX_DIMENSION);
        ArchitectureConfig.checkDimension("type_vocab_size", typeVocabSize, MAX_DIMENSION);
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not divisible by num_attention_heads "
                    + numHeads);
        }
        if (!(layerNormEps > 0 && layerNormEps < 1)) {
            throw new IllegalArgumentException("layer_norm_eps " + layerNormEps + " must be in (0, 1)");
        }
        if (positionOffset < 0 || positionOffset >= maxPositions) {
            throw new IllegalArgumentException("position offset " + positionOffset + " outside max_position_embeddings");
        }
    }

    /** {@code roberta} for XLM-RoBERTa and CamemBERT, whose heads are RoBERTa's; the model type otherwise. */
    @Override
    public String headFamily() {
        return ROBERTA_TYPES.contains(modelType) ? "roberta" : modelType;
    }

    @Override
    public int maxSequenceLength() {
        return maxPositions - positionOffset;
    }

    @Override
    public List<ExpectedTensor> expectedTensors() {
        int h = hiddenSize;
        List<ExpectedTensor> t = new ArrayList<>();
        t.add(ExpectedTensor.required("embeddings.word_embeddings.weight", vocabSize, h));
        t.add(ExpectedTensor.required("embeddings.position_embeddings.weight", maxPositions, h));
        t.add(ExpectedTensor.required("embeddings.token_type_embeddings.weight", typeVocabSize, h));
        t.add(ExpectedTensor.required("embeddings.LayerNorm.weight", h));
        t.add(ExpectedTensor.required("embeddings.LayerNorm.bias", h));
        for (int i = 0; i < numLayers; i++) {
            String p = "encoder.layer." + i + ".";
            for (String proj : List.of("attention.self.query", "attention.self.key", "attention.self.value",
                    "attention.output.dense")) {
                t.add(ExpectedTensor.required(p + proj + ".weight", h, h));
                t.add(ExpectedTensor.required(p + proj + ".bias", h));
            }
            t.add(ExpectedTensor.required(p + "attention.output.LayerNorm.weight", h));
            t.add(ExpectedTensor.required(p + "attention.output.LayerNorm.bias", h));
            t.add(ExpectedTensor.required(p + "intermediate.dense.weight", intermediateSize, h));
            t.add(ExpectedTensor.required(p + "intermediate.dense.bias", intermediateSize));
            t.add(ExpectedTensor.required(p + "output.dense.weight", h, intermediateSize));
            t.add(ExpectedTensor.required(p + "output.dense.bias", h));
            t.add(ExpectedTensor.required(p + "output.LayerNorm.weight", h));
            t.add(ExpectedTensor.required(p + "output.LayerNorm.bias", h));
        }
        // sentence-transformers exports often drop the pooler; BertModel checkpoints keep it.
        t.add(ExpectedTensor.optional("pooler.dense.weight", h, h));
        t.add(ExpectedTensor.optional("pooler.dense.bias", h));
        return t;
    }

    @Override
    public List<String> checkpointPrefixes() {
        return List.of("bert.", "roberta.");
    }

    @Override
    public boolean isTaskHead(String name) {
        return isIgnored(name) && !name.equals("embeddings.position_ids");
    }

    @Override
    public boolean isIgnored(String name) {
        return name.equals("embeddings.position_ids") || name.startsWith("cls.") || name.startsWith("lm_head.")
                || name.startsWith("classifier.") || name.startsWith("qa_outputs.");
    }
}
