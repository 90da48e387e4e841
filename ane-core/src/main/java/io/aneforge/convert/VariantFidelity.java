package io.aneforge.convert;

import io.aneforge.eval.Fidelity;
import io.aneforge.eval.FidelityReport;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.graph.Graphs;
import io.aneforge.tensor.FloatTensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A variant's outputs against the golden outputs, one {@link FidelityReport} per output over
 * all samples together (samples stacked on the first axis). {@code logits} also get top-1
 * agreement. Outputs of every layout are {@code (1, S, ...)}, so they compare directly.
 */
public final class VariantFidelity {
    private VariantFidelity() {
    }

    public static Map<String, FidelityReport> of(GoldenOutputs golden, List<Map<String, FloatTensor>> outputs) {
        if (outputs.size() != golden.samples().size()) {
            throw new IllegalArgumentException("fidelity: " + outputs.size() + " candidate samples for "
                    + golden.samples().size() + " golden samples");
        }
        Map<String, FidelityReport> reports = new LinkedHashMap<>();
        for (String name : golden.outputNames()) {
            FloatTensor ref = stack(golden.samples().stream().map(s -> s.outputs().get(name)).toList(), name);
            FloatTensor cand = stack(outputs.stream().map(o -> {
                FloatTensor t = o.get(name);
                if (t == null) {
                    throw new IllegalArgumentException("fidelity: the candidate has no output '" + name + "' (has "
                            + o.keySet() + ")");
                }
                return t;
            }).toList(), name);
            reports.put(name, name.equals(Graphs.LOGITS) ? Fidelity.compareLogits(ref, cand) : Fidelity.compare(ref, cand));
        }
        return reports;
    }

    private static FloatTensor stack(List<FloatTensor> parts, String name) {
        int[] shape = parts.get(0).shape().clone();
        int n = parts.get(0).size();
        float[] data = new float[n * parts.size()];
        for (int i = 0; i < parts.size(); i++) {
            FloatTensor p = parts.get(i);
            if (!Arrays.equals(p.shape(), parts.get(0).shape())) {
                throw new IllegalArgumentException("fidelity: output '" + name + "' of sample " + i + " has shape "
                        + p.shapeString() + ", sample 0 has " + parts.get(0).shapeString());
            }
            System.arraycopy(p.data(), 0, data, i * n, n);
        }
        shape[0] *= parts.size();
        return new FloatTensor(shape, data);
    }
}
