package io.aneforge.eval;

import io.aneforge.tensor.FloatTensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The FP32 outputs of the reference model for a fixed list of input samples: what every
 * variant is compared against. Every sample has the same output names, in the same order.
 * Serialized by {@code io.aneforge.eval.golden.GoldenOutputsCodec}.
 */
public record GoldenOutputs(List<Sample> samples) {

    /** One input sample (its id, e.g. the index or a hash of the text) and the model outputs for it. */
    public record Sample(String id, Map<String, FloatTensor> outputs) {
        public Sample {
            if (id == null || id.isEmpty()) {
                throw new IllegalArgumentException("golden sample id must be non-empty");
            }
            if (outputs == null || outputs.isEmpty()) {
                throw new IllegalArgumentException("golden sample '" + id + "' has no outputs");
            }
            for (Map.Entry<String, FloatTensor> e : outputs.entrySet()) {
                if (e.getKey() == null || e.getKey().isEmpty() || e.getValue() == null) {
                    throw new IllegalArgumentException("golden sample '" + id + "' has an unnamed or null output");
                }
            }
            outputs = Collections.unmodifiableMap(new LinkedHashMap<>(outputs));
        }
    }

    public GoldenOutputs {
        if (samples == null || samples.isEmpty()) {
            throw new IllegalArgumentException("golden outputs need at least one sample");
        }
        samples = List.copyOf(samples);
        Set<String> ids = new HashSet<>();
        List<String> names = new ArrayList<>(samples.get(0).outputs().keySet());
        for (Sample s : samples) {
            if (!ids.add(s.id())) {
                throw new IllegalArgumentException("golden outputs: duplicate sample id '" + s.id() + "'");
            }
            if (!new ArrayList<>(s.outputs().keySet()).equals(names)) {
                throw new IllegalArgumentException("golden outputs: sample '" + s.id() + "' has outputs "
                        + s.outputs().keySet() + " but the first sample has " + names
                        + "; every sample must have the same outputs in the same order");
            }
        }
    }

    /** Output names, in order. */
    public List<String> outputNames() {
        return List.copyOf(samples.get(0).outputs().keySet());
    }
}
