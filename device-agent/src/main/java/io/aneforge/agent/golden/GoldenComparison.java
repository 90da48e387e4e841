package io.aneforge.agent.golden;

import io.aneforge.convert.VariantFidelity;
import io.aneforge.eval.FidelityReport;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.GoldenTensor;
import io.aneforge.graph.Graphs;
import io.aneforge.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compares a variant's outputs with the golden FP32 outputs, per output name, with ane-core's
 * definition of fidelity ({@link VariantFidelity#realTokens}, the one {@code convert} and {@code eval}
 * report): several samples are compared as one, and per-token outputs only on each sample's real
 * tokens, the positions whose {@code attention_mask} in the golden inputs is 1. Padding positions feed
 * nothing downstream and are the most sensitive to quantization: counted in, they made an int8 variant
 * whose real tokens score 0.9997 read 0.96. {@link FidelityReport#positions()} is the number of
 * positions compared. Inputs without an {@code attention_mask} (a model that takes none) have no
 * padding: every position is compared. An output in ANE layout {@code (B, C, 1, S)} is compared with a
 * golden {@code (B, S, C)} after transposing it back. An output the golden data holds at some positions only (golden
 * format 3: vocabulary-sized logits) is compared at those only, and its report lists them
 * ({@link FidelityReport#comparedPositions()}); the first sample, all a benchmark job runs, always holds one.
 */
public final class GoldenComparison {

    private GoldenComparison() {}

    /**
     * @param inputs     the golden inputs (per sample id, the model inputs; their {@code attention_mask} says which
     *                   positions are real tokens)
     * @param candidates the variant's outputs per sample id (the samples run; others are left out)
     * @return fidelity per output name present in both (golden order)
     * @throws IllegalArgumentException when no output is shared, a sample is missing or shapes cannot be aligned
     */
    public static Map<String, FidelityReport> compare(GoldenOutputs golden, GoldenOutputs inputs,
            Map<String, Map<String, FloatTensor>> candidates) {
        Map<String, FloatTensor> first = candidates.values().iterator().next();
        List<String> shared = golden.outputNames().stream().filter(first::containsKey).toList();
        if (shared.isEmpty()) {
            throw new IllegalArgumentException("the variant's outputs " + first.keySet() + " share no name with the golden"
                    + " outputs " + golden.outputNames() + "; the variant and the golden data disagree on output names");
        }
        Map<String, GoldenOutputs.Sample> inputsById = new HashMap<>();
        for (GoldenOutputs.Sample s : inputs.samples()) {
            inputsById.put(s.id(), s);
        }
        List<GoldenOutputs.Sample> reference = new ArrayList<>();
        List<Map<String, FloatTensor>> candidate = new ArrayList<>();
        List<Map<String, FloatTensor>> sampleInputs = new ArrayList<>();
        boolean masked = true;
        for (GoldenOutputs.Sample s : golden.samples()) {
            Map<String, FloatTensor> c = candidates.get(s.id());
            if (c == null) {
                continue;
            }
            GoldenOutputs.Sample sampleIn = inputsById.get(s.id());
            if (sampleIn == null) {
                throw new IllegalArgumentException("the golden inputs have no sample '" + s.id() + "' (the golden outputs"
                        + " do); the two golden blobs of this version do not belong together");
            }
            Map<String, FloatTensor> in = sampleIn.outputs(); // (1, S) each, and only the samples run are expanded
            Map<String, GoldenTensor> r = new LinkedHashMap<>();
            Map<String, FloatTensor> t = new LinkedHashMap<>();
            for (String name : shared) {
                FloatTensor got = c.get(name);
                if (got == null) {
                    throw new IllegalArgumentException("output '" + name + "' is missing for sample '" + s.id() + "'");
                }
                GoldenTensor held = s.tensors().get(name); // as held: its padding is never expanded
                r.put(name, held);
                t.put(name, align(name, held.shape(), got));
            }
            reference.add(new GoldenOutputs.Sample(s.id(), r));
            candidate.add(t);
            sampleInputs.add(in);
            masked &= in.containsKey(Graphs.ATTENTION_MASK);
        }
        if (reference.isEmpty()) {
            throw new IllegalArgumentException("no golden sample was run (sample ids " + candidates.keySet() + ")");
        }
        GoldenOutputs ref = new GoldenOutputs(reference);
        return masked ? VariantFidelity.realTokens(ref, candidate, sampleInputs) : VariantFidelity.of(ref, candidate);
    }

    /** The candidate in the layout of the reference's shape {@code rs}: as is, or (B, C, 1, S) transposed to (B, S, C). */
    static FloatTensor align(String name, int[] rs, FloatTensor candidate) {
        int[] cs = candidate.shape();
        if (Arrays.equals(rs, cs)) {
            return candidate;
        }
        if (rs.length == 3 && cs.length == 4 && cs[0] == rs[0] && cs[1] == rs[2] && cs[2] == 1 && cs[3] == rs[1]) {
            int b = rs[0], s = rs[1], ch = rs[2];
            float[] src = candidate.data();
            float[] dst = new float[src.length];
            for (int i = 0; i < b; i++) {
                for (int c = 0; c < ch; c++) {
                    for (int t = 0; t < s; t++) {
                        dst[(i * s + t) * ch + c] = src[(i * ch + c) * s + t];
                    }
                }
            }
            return new FloatTensor(rs.clone(), dst);
        }
        throw new IllegalArgumentException("output '" + name + "' has shape " + Arrays.toString(cs)
                + " but the golden output has " + Arrays.toString(rs) + " (nor is it its ANE layout (B, C, 1, S))");
    }
}
