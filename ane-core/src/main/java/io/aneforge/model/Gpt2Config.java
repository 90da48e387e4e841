package io.aneforge.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * GPT-2 decoder. Checkpoints store {@code c_attn}, {@code c_proj}, {@code c_fc} as Conv1D
 * {@code [in, out]}; canonical form (what {@link #expectedTensors} lists) is {@code [out, in]}.
 *
 * @param scaleAttnWeights {@code scale_attn_weights}: attention scores divided by {@code sqrt(head_dim)}
 * @param scaleAttnByInverseLayerIdx {@code scale_attn_by_inverse_layer_idx}: scores of layer {@code i}
 *     (from 0) also divided by {@code i + 1}
 */
public record Gpt2Config(int vocabSize, int hiddenSize, int numLayers, int numHeads, int intermediateSize,
                         int maxPositions, double layerNormEps, String activation, boolean scaleAttnWeights,
                         boolean scaleAttnByInverseLayerIdx) implements ArchitectureConfig {
    private static final Set<String> CONV1D = Set.of("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight",
            "mlp.c_proj.weight");

    public Gpt2Config {
        ArchitectureConfig.checkDimension("vocab_size", vocabSize, MAX_DIMENSION);
        ArchitectureConfig.checkDimension("n_embd", hiddenSize, MAX_DIMENSION);
        ArchitectureConfig.checkDimension("n_layer", numLayers, MAX_LAYERS);
        ArchitectureConfig.checkDimension("n_head", numHeads, hiddenSize);
        ArchitectureConfig.checkDimension("n_inner", intermediateSize, MAX_DIMENSION);
        ArchitectureConfig.checkDimension("n_positions", maxPositions, MAX_DIMENSION);
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("n_embd " + hiddenSize + " is not divisible by n_head " + numHeads);
        }
        if (!(layerNormEps > 0 && layerNormEps < 1)) {
            throw new IllegalArgumentException("layer_norm_epsilon " + layerNormEps + " must be in (0, 1)");
        }
    }

    /** The defaults of the Hub's GPT2Config for the two attention-scale flags (scaled by sqrt(head_dim) only). */
    public Gpt2Config(int vocabSize, int hiddenSize, int numLayers, int numHeads, int intermediateSize,
                      int maxPositions, double layerNormEps, String activation) {
        this(vocabSize, hiddenSize, numLayers, numHeads, intermediateSize, maxPositions, layerNormEps, activation, true,
                false);
    }

    @Override
    public String modelType() {
        return "gpt2";
    }

    /**
     * The factor of layer {@code layer}'s attention scores {@code q·k}, as GPT2Attention computes it:
     * {@code 1/sqrt(head_dim)} when {@code scale_attn_weights}, times {@code 1/(layer + 1)} when
     * {@code scale_attn_by_inverse_layer_idx}.
     */
    public double attentionScale(int layer) {
        double scale = scaleAttnWeights ? 1.0 / Math.sqrt(hiddenSize / (double) numHeads) : 1.0;
        return scaleAttnByInverseLayerIdx ? scale / (layer + 1) : scale;
    }

    @Override
    public List<ExpectedTensor> expectedTensors() {
        int h = hiddenSize;
        List<ExpectedTensor> t = new ArrayList<>();
        t.add(ExpectedTensor.required("wte.weight", vocabSize, h));
        t.add(ExpectedTensor.required("wpe.weight", maxPositions, h));
        for (int i = 0; i < numLayers; i++) {
            String p = "h." + i + ".";
            t.add(ExpectedTensor.required(p + "ln_1.weight", h));
            t.add(ExpectedTensor.required(p + "ln_1.bias", h));
            t.add(ExpectedTensor.required(p + "attn.c_attn.weight", 3 * h, h));
            t.add(ExpectedTensor.required(p + "attn.c_attn.bias", 3 * h));
            t.add(ExpectedTensor.required(p + "attn.c_proj.weight", h, h));
            t.add(ExpectedTensor.required(p + "attn.c_proj.bias", h));
            t.add(ExpectedTensor.required(p + "ln_2.weight", h));
            t.add(ExpectedTensor.required(p + "ln_2.bias", h));
            t.add(ExpectedTensor.required(p + "mlp.c_fc.weight", intermediateSize, h));
            t.add(ExpectedTensor.required(p + "mlp.c_fc.bias", intermediateSize));
            t.add(ExpectedTensor.required(p + "mlp.c_proj.weight", h, intermediateSize));
            t.add(ExpectedTensor.required(p + "mlp.c_proj.bias", h));
        }
        t.add(ExpectedTensor.required("ln_f.weight", h));
        t.add(ExpectedTensor.required("ln_f.bias", h));
        return t;
    }

    @Override
    public List<String> checkpointPrefixes() {
        return List.of("transformer.");
    }

    @Override
    public boolean isIgnored(String name) {
        // lm_head is tied to wte; attn.bias / attn.masked_bias are causal-mask buffers of old checkpoints.
        return name.equals("lm_head.weight") || name.endsWith(".attn.bias") || name.endsWith(".attn.masked_bias");
    }

    @Override
    public boolean storedTransposed(String name) {
        int dot = name.indexOf('.', 2);
        return name.startsWith("h.") && dot > 0 && CONV1D.contains(name.substring(dot + 1));
    }
}
