package io.aneforge.model;

import io.aneforge.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.List;

/**
 * DistilBERT encoder (no token types, LayerNorm eps fixed at 1e-12 by the reference code).
 *
 * <p>{@code sinusoidalPositions} ({@code sinusoidal_pos_embds}) is what Hugging Face transformers does with it: the
 * flag only initializes {@code embeddings.position_embeddings.weight}, an ordinary parameter that is saved and loaded
 * like any other. So a checkpoint that carries the table is used as it is, in every transformers version: loading the
 * state dict overwrites whatever initialization wrote, and transformers never compares the table with the sinusoids.
 * They can differ legitimately (transformers before the fix for issue 29807, March 2024, let {@code post_init}
 * overwrite the sinusoids with a normal initialization, and a model trained from scratch then kept that frozen
 * random table), so the import takes the checkpoint's table and does not check it. A checkpoint without the table
 * gets the sinusoids computed as transformers' {@code create_sinusoidal_embeddings} computes them (what
 * {@code _init_weights} writes for the missing weight since that fix); without the flag the table is required.
 */
public record DistilBertConfig(int vocabSize, int hiddenSize, int numLayers, int numHeads, int intermediateSize,
                               int maxPositions, String activation, boolean sinusoidalPositions) implements ArchitectureConfig {
    public static final double LAYER_NORM_EPS = 1e-12;
    static final String POSITION_TABLE = "embeddings.position_embeddings.weight";

    /** A config with learned positions ({@code sinusoidal_pos_embds} false, the Hub's default). */
    public DistilBertConfig(int vocabSize, int hiddenSize, int numLayers, int numHeads, int intermediateSize,
                            int maxPositions, String activation) {
        this(vocabSize, hiddenSize, numLayers, numHeads, intermediateSize, maxPositions, activation, false);
    }

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
        t.add(sinusoidalPositions ? ExpectedTensor.optional(POSITION_TABLE, maxPositions, h)
                : ExpectedTensor.required(POSITION_TABLE, maxPositions, h));
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

    /** The sinusoids for a checkpoint without a position table (see the class comment); nothing else is computed. */
    @Override
    public FloatTensor computedWhenMissing(String canonicalName) {
        return sinusoidalPositions && canonicalName.equals(POSITION_TABLE)
                ? sinusoids(maxPositions, hiddenSize) : null;
    }

    /**
     * transformers' {@code create_sinusoidal_embeddings(n_pos, dim)}: angle {@code pos / 10000^(2*(j//2)/dim)} in
     * double precision (numpy's float64), sine in the even columns and cosine in the odd ones, each rounded once to
     * float32 ({@code torch.FloatTensor} of the float64 array).
     */
    static FloatTensor sinusoids(int positions, int dim) {
        float[] table = new float[Math.multiplyExact(positions, dim)];
        for (int j = 0; j < dim; j++) {
            double rate = Math.pow(10000, 2 * (j / 2) / (double) dim);
            for (int pos = 0; pos < positions; pos++) {
                double angle = pos / rate;
                table[pos * dim + j] = (float) (j % 2 == 0 ? Math.sin(angle) : Math.cos(angle));
            }
        }
        return new FloatTensor(new int[] {positions, dim}, table);
    }

    @Override
    public List<String> checkpointPrefixes() {
        return List.of("distilbert.");
    }

    @Override
    public boolean isTaskHead(String name) {
        return isIgnored(name) && !name.equals("embeddings.position_ids");
    }

    @Override
    public boolean isIgnored(String name) {
        return name.equals("embeddings.position_ids") || name.startsWith("vocab_transform.")
                || name.startsWith("vocab_layer_norm.") || name.startsWith("vocab_projector.")
                || name.startsWith("pre_classifier.") || name.startsWith("classifier.") || name.startsWith("qa_outputs.");
    }
}
