package io.aneforge.model;

import java.util.ArrayList;
import java.util.List;

/** DistilBERT encoder (no token types, LayerNorm eps fixed at 1e-12 by the reference code). */
public record DistilBertConfig(int vocabSize, int hiddenSize, int numLayers, int numHeads, int intermediateSize,
                               int maxPositions, String activation) implements ArchitectureConfig {
    public static final double LAYER_NORM_EPS = 1e-12;

    public DistilBertConfig {
        ArchitectureConfig.checkDimension("vocab_size", vocabSize, MAX_DIMENSION);
        ArchitectureConfig.checkDimension("dim", hiddenSize, MAX_DIMENSION);
        ArchitectureConfig.checkDimension("n_layers", numLayers, MAX_LAYERS);
        ArchitectureConfig.checkDimension("n_heads", numHeads, hiddenSize);
        ArchitectureConfig.checkDimension("hidden_dim", intermediateSize, MAX_DIMENSION);
        ArchitectureConfig.checkDimension("max_position_embeddings", maxPositions, MAX_DIMENSION);
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("dim " + hiddenSize + " is not divisible by n_heads " + numHeads);
        }
    }

    @Override
    public String modelType() {
        return "distilbert";
    }

    @Override
    public List<ExpectedTensor> expectedTensors() {
        int h = hiddenSize;
        List<ExpectedTensor> t = new ArrayList<>();
        t.add(ExpectedTensor.required("embeddings.word_embeddings.weight", vocabSize, h));
        t.add(ExpectedTensor.required("embeddings.position_embeddings.weight", maxPositions, h));
        t.add(ExpectedTensor.required("embeddings.LayerNorm.weight", h));
        t.add(ExpectedTensor.required("embeddings.LayerNorm.bias", h));
        for (int i = 0; i < numLayers; i++) {
            String p = "transformer.layer." + i + ".";
            for (String proj : List.of("q_lin", "k_lin", "v_lin", "out_lin")) {
                t.add(ExpectedTensor.required(p + "attention." + proj + ".weight", h, h));
                t.add(ExpectedTensor.required(p + "attention." + proj + ".bias", h));
            }
            t.add(ExpectedTensor.required(p + "sa_layer_norm.weight", h));
            t.add(ExpectedTensor.required(p + "sa_layer_norm.bias", h));
            t.add(ExpectedTensor.required(p + "ffn.lin1.weight", intermediateSize, h));
            t.add(ExpectedTensor.required(p + "ffn.lin1.bias", intermediateSize));
            t.add(ExpectedTensor.required(p + "ffn.lin2.weight", h, intermediateSize));
            t.add(ExpectedTensor.required(p + "ffn.lin2.bias", h));
            t.add(ExpectedTensor.required(p + "output_layer_norm.weight", h));
            t.add(ExpectedTensor.required(p + "output_layer_norm.bias", h));
        }
        return t;
    }

    @Override
    public List<String> checkpointPrefixes() {
        return List.of("distilbert.");
    }

    @Override
    public boolean isIgnored(String name) {
        return name.equals("embeddings.position_ids") || name.startsWith("vocab_transform.")
                || name.startsWith("vocab_layer_norm.") || name.startsWith("vocab_projector.")
                || name.startsWith("pre_classifier.") || name.startsWith("classifier.");
    }
}
