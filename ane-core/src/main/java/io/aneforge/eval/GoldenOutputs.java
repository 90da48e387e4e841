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
 * variant is compared against. Every sample has the same output names, in the same order, and holds each output the
 * same way (every position, or some positions only: {@link GoldenTensor#heldPositions()}).
 * Serialized by {@code io.aneforge.eval.golden.GoldenOutputsCodec}.
 *
 * <p>Each output is held as a {@link GoldenTensor}. Decoded (or made by {@code Golden.fullLength}) it holds no
 * trailing zeros, so a per-token output of full sequence length costs its sample's real tokens only
 * ({@link #heldBytes()}).
 */
public record GoldenOutputs(List<Sample> samples) {

    /**
     * One input sample (its id, e.g. the index or a hash of the text) and the model outputs for it, as held
     * ({@link GoldenTensor}); {@link #outputs()} expands them.
     */
    public record Sample(String id, Map<String, GoldenTensor> tensors) {
        public Sample {
            if (id == null || id.isEmpty()) {
                throw new IllegalArgumentException("golden sample id must be non-empty");
            }
            if (tensors == null || tensors.isEmpty()) {
                throw new IllegalArgumentException("golden sample '" + id + "' has no outputs");
            }
            for (Map.Entry<String, GoldenTensor> e : tensors.entrySet()) {
                if (e.getKey() == null || e.getKey().isEmpty() || e.getValue() == null) {
                    throw new IllegalArgumentException("golden sample '" + id + "' has an unnamed or null output");
                }
            }
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        }

        /** A sample holding {@code outputs} as they are (their arrays, not copied, zeros included). */
        public static Sample of(String id, Map<String, FloatTensor> outputs) {
            if (outputs == null) {
                throw new IllegalArgumentException("golden sample '" + id + "' has no outputs");
            }
            Map<String, GoldenTensor> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, FloatTensor> e : outputs.entrySet()) {
                tensors.put(e.getKey(), e.getValue() == null ? null : GoldenTensor.of(e.getValue()));
            }
            return new Sample(id, tensors);
        }

        /**
         * The outputs expanded to whole tensors, newly allocated on each call: for small outputs (inputs, pooled
         * outputs) and tests. Comparisons read {@link #tensors()}, which holds no padding.
         */
        public Map<String, FloatTensor> outputs() {
            Map<String, FloatTensor> out = new LinkedHashMap<>();
            tensors.forEach((name, t) -> out.put(name, t.expand()));
            return Collections.unmodifiableMap(out);
        }

        /** Bytes {@link #outputs()} allocates: every tensor expanded, its zeros included. */
        public long expandedBytes() {
            long bytes = 0;
            for (GoldenTensor t : tensors.values()) {
                bytes += t.expandedBytes();
            }
            return bytes;
        }

        /** Bytes of the floats this sample holds, and of its tensors' held positions ({@link GoldenTensor#heldBytes()}). */
        public long heldBytes() {
            long bytes = 0;
            for (GoldenTensor t : tensors.values()) {
                bytes += t.heldBytes();
            }
            return bytes;
        }
    }

    public GoldenOutputs {
        if (samples == null || samples.isEmpty()) {
            throw new IllegalArgumentException("golden outputs need at least one sample");
        }
        samples = List.copyOf(samples);
        Set<String> ids = new HashSet<>();
        List<String> names = new ArrayList<>(samples.get(0).tensors().keySet());
        for (Sample s : samples) {
            if (!ids.add(s.id())) {
                throw new IllegalArgumentException("golden outputs: duplicate sample id '" + s.id() + "'");
            }
            if (!new ArrayList<>(s.tensors().keySet()).equals(names)) {
                throw new IllegalArgumentException("golden outputs: sample '" + s.id() + "' has outputs "
                        + s.tensors().keySet() + " but the first sample has " + names
                        + "; every sample must have the same outputs in the same order");
            }
            for (String name : names) {
                boolean held = s.tensors().get(name).holdsSomePositionsOnly();
                if (held != samples.get(0).tensors().get(name).holdsSomePositionsOnly()) {
                    // A comparison counts an output's positions one way for every sample: mixed, its report's
                    // comparedPositions could not add up to its positions, and every result would be refused.
                    throw new IllegalArgumentException("golden outputs: output '" + name + "' of sample '" + s.id()
                            + "' " + (held ? "holds some positions only" : "holds every position") + " but the first"
                            + " sample's " + (held ? "holds every position" : "holds some positions only")
                            + "; an output is held the same way in every sample (HeldPositions.reduce does so)");
                }
            }
        }
    }

    /** Output names, in order. */
    public List<String> outputNames() {
        return List.copyOf(samples.get(0).tensors().keySet());
    }

    /**
     * Bytes of every sample's tensors expanded ({@link Sample#outputs()}): what the shapes declare, which can be far
     * more than {@link #heldBytes()} (the zeros of a decoded blob are not held).
     */
    public long expandedBytes() {
        long bytes = 0;
        for (Sample s : samples) {
            bytes += s.expandedBytes();
        }
        return bytes;
    }

    /**
     * Bytes of the floats held (and held positions), every sample's: what the golden data costs in memory (the
     * padded positions' zeros are not held).
     */
    public long heldBytes() {
        long bytes = 0;
        for (Sample s : samples) {
            bytes += s.heldBytes();
        }
        return bytes;
    }
}
