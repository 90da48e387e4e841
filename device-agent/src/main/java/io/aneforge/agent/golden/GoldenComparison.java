package io.aneforge.agent.golden;

import io.aneforge.eval.Fidelity;
import io.aneforge.eval.FidelityReport;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compares a variant's outputs with the golden FP32 outputs, per output name. Several samples
 * are compared as one: each output's tensors are stacked along axis 0, so the cosine statistics
 * cover every position of every sample. An output in ANE layout {@code (B, C, 1, S)} is compared
 * with a golden {@code (B, S, C)} after transposing it back.
 */
public final class GoldenComparison {

    private GoldenComparison() {}

    /**
     * @param candidates the variant's outputs per sample id
     * @return fidelity per output name present in both (golden order)
     * @throws IllegalArgumentException when no output is shared, a sample is missing or shapes cannot be aligned
     */
    public static Map<String, FidelityReport> compare(GoldenOutputs golden, Map<String, Map<String, FloatTensor>> candidates) {
        Map<String, FidelityReport> out = new LinkedHashMap<>();
        Map<String, FloatTensor> first = candidates.values().iterator().next();
        for (String name : golden.outputNames()) {
            if (!first.containsKey(name)) {
                continue;
            }
            List<FloatTensor> ref = new ArrayList<>();
            List<FloatTensor> cand = new ArrayList<>();
            for (GoldenOutputs.Sample s : golden.samples()) {
                Map<String, FloatTensor> c = candidates.get(s.id());
                if (c == null) {
                    continue;
                }
                FloatTensor r = s.outputs().get(name);
                FloatTensor t = c.get(name);
                if (t == null) {
                    throw new IllegalArgumentException("output '" + name + "' is missing for sample '" + s.id() + "'");
                }
                ref.add(r);
                cand.add(align(name, r, t));
            }
            if (ref.isEmpty()) {
                throw new IllegalArgumentException("no golden sample was run (sample ids " + candidates.keySet() + ")");
            }
            FloatTensor r = stack(ref);
            FloatTensor c = stack(cand);
            out.put(name, name.toLowerCase(java.util.Locale.ROOT).contains("logits") ? Fidelity.compareLogits(r, c)
                    : Fidelity.compare(r, c));
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("the variant's outputs " + first.keySet() + " share no name with the golden"
                    + " outputs " + golden.outputNames() + "; the variant and the golden data disagree on output names");
        }
        return out;
    }

    /** The candidate in the reference's layout: as is, or (B, C, 1, S) transposed to (B, S, C). */
    static FloatTensor align(String name, FloatTensor reference, FloatTensor candidate) {
        int[] rs = reference.shape();
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

    static FloatTensor stack(List<FloatTensor> parts) {
        if (parts.size() == 1) {
            return parts.get(0);
        }
        int[] shape = parts.get(0).shape();
        int total = 0;
        for (FloatTensor p : parts) {
            if (p.shape().length == 0 || !Arrays.equals(Arrays.copyOfRange(p.shape(), 1, p.shape().length),
                    Arrays.copyOfRange(shape, 1, shape.length))) {
                throw new IllegalArgumentException("golden samples have different output shapes " + Arrays.toString(shape)
                        + " and " + Arrays.toString(p.shape()) + "; they cannot be compared as one");
            }
            total += p.shape()[0];
        }
        int[] stacked = shape.clone();
        stacked[0] = total;
        float[] data = new float[parts.stream().mapToInt(p -> p.data().length).sum()];
        int at = 0;
        for (FloatTensor p : parts) {
            System.arraycopy(p.data(), 0, data, at, p.data().length);
            at += p.data().length;
        }
        return new FloatTensor(stacked, data);
    }
}
