package io.aneforge.convert;

import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.GoldenTensor;
import io.aneforge.graph.Graphs;
import io.aneforge.mil.MilException;
import io.aneforge.mil.Program;
import io.aneforge.mil.SequencePrefix;
import io.aneforge.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fidelity samples cut to the shortest prefix that holds every real token, rounded up to a
 * multiple of {@value #QUANTUM}, and programs run on that prefix ({@link SequencePrefix}). The
 * 8 samples of a default {@code convert} fit in 32 of 128 positions, so each prediction does a
 * quarter of the projection work and a sixteenth of the attention work, and the real-token
 * outputs are the same floats as the whole program's ({@code SamplePrefixTest}).
 *
 * <p>Why a multiple of 16: the kernels sum rows in 4 partial sums and vectors of up to 16
 * lanes; with the prefix a multiple of both, the padded positions the whole program has beyond
 * the prefix only add exact zeros to the same partial sums, in the same order.
 *
 * <p>Outputs come back with the prefix length on their sequence axis ({@code (1, length, ...)}),
 * so golden and candidate outputs compare position by position and {@link VariantFidelity#realTokens}
 * with {@link #inputs()} picks the same real tokens as it would at full length.
 */
public final class SamplePrefix {
    /** The prefix length is a multiple of this (see the class comment). */
    public static final int QUANTUM = 16;

    private final List<Map<String, FloatTensor>> full;
    private final List<Map<String, FloatTensor>> inputs;
    private final int seqLen;
    private final int length;

    private SamplePrefix(List<Map<String, FloatTensor>> full, List<Map<String, FloatTensor>> inputs, int seqLen, int length) {
        this.full = List.copyOf(full);
        this.inputs = List.copyOf(inputs);
        this.seqLen = seqLen;
        this.length = length;
    }

    /**
     * The prefix of full-length sample inputs ({@link Golden#inputs}): every input is {@code (1, S)},
     * and positions at or after each sample's last {@code attention_mask} 1 are padding.
     */
    public static SamplePrefix of(List<Map<String, FloatTensor>> full) {
        int seqLen = seqLen(full);
        int last = 0;
        for (Map<String, FloatTensor> sample : full) {
            last = Math.max(last, realLength(sample));
        }
        int length = Math.min(seqLen, Math.max(QUANTUM, (last + QUANTUM - 1) / QUANTUM * QUANTUM));
        return new SamplePrefix(full, cut(full, seqLen, length, true), seqLen, length);
    }

    /** No cut: programs run whole on {@code full} (for comparisons with the prefix, and callers that want every position). */
    public static SamplePrefix whole(List<Map<String, FloatTensor>> full) {
        int seqLen = seqLen(full);
        return new SamplePrefix(full, full, seqLen, seqLen);
    }

    private static int seqLen(List<Map<String, FloatTensor>> full) {
        if (full.isEmpty()) {
            throw new IllegalArgumentException("sample prefix: no samples");
        }
        int seqLen = -1;
        for (Map<String, FloatTensor> sample : full) {
            if (!sample.containsKey(Graphs.ATTENTION_MASK)) {
                throw new IllegalArgumentException("sample prefix: a sample has no " + Graphs.ATTENTION_MASK + " input (has "
                        + sample.keySet() + ")");
            }
            for (Map.Entry<String, FloatTensor> e : sample.entrySet()) {
                int[] s = e.getValue().shape();
                if (s.length != 2 || s[0] != 1 || (seqLen != -1 && s[1] != seqLen)) {
                    throw new IllegalArgumentException("sample prefix: input '" + e.getKey() + "' is "
                            + Arrays.toString(s) + "; every input must be (1, S) with one S");
                }
                seqLen = s[1];
            }
        }
        return seqLen;
    }

    /**
     * Keeps the first {@code length} positions of axis 1 of every {@code (1, S, ...)} input, or of every per-token
     * output ({@link Graphs#perToken}: (1, S, C) and question answering's (1, S) logits, while a (1, C) pooled output
     * or a classifier's (1, L) logits may have C = S).
     */
    private static List<Map<String, FloatTensor>> cut(List<Map<String, FloatTensor>> samples, int seqLen, int length,
                                                      boolean inputs) {
        List<Map<String, FloatTensor>> out = new ArrayList<>();
        for (Map<String, FloatTensor> sample : samples) {
            Map<String, FloatTensor> m = new LinkedHashMap<>();
            sample.forEach((name, t) -> m.put(name, cut(t, seqLen, length,
                    inputs ? t.rank() >= 2 : Graphs.perToken(name, t.shape(), seqLen))));
            out.add(m);
        }
        return out;
    }

    private static FloatTensor cut(FloatTensor t, int seqLen, int length, boolean perToken) {
        int[] s = t.shape();
        if (!perToken || s[0] != 1 || s[1] != seqLen || length == seqLen) {
            return t;
        }
        int[] shape = s.clone();
        shape[1] = length;
        return new FloatTensor(shape, Arrays.copyOf(t.data(), t.size() / seqLen * length));
    }

    /** The full sequence length S. */
    public int seqLen() {
        return seqLen;
    }

    /** The prefix length (S when nothing is cut). */
    public int length() {
        return length;
    }

    /** The sample inputs cut to the prefix, in sample order. */
    public List<Map<String, FloatTensor>> inputs() {
        return inputs;
    }

    /**
     * Runs a whole-sequence program (S positions) on the samples and returns outputs cut to the
     * prefix: the program's {@link SequencePrefix} on the prefix inputs, or, when it cannot be cut
     * ({@link MilException}), the whole program on the full inputs with its outputs cut afterwards.
     */
    public List<Map<String, FloatTensor>> run(Program program, ProgramEvaluator evaluator) {
        Program loaded = program(program);
        return outputsOf(evaluator.runAll(loaded, inputsFor(loaded)));
    }

    /**
     * {@link #run}, but only the real tokens of per-token outputs are computed for sure (and outputs
     * without a sequence axis): positions past a sample's last real token are unspecified
     * ({@link ProgramEvaluator#runRealTokens}), which is all fidelity reads ({@link VariantFidelity#realTokens}).
     */
    public List<Map<String, FloatTensor>> runRealTokens(Program program, ProgramEvaluator evaluator) {
        Program loaded = program(program);
        return outputsOf(evaluator.runRealTokens(loaded, inputsFor(loaded), realLengths()));
    }

    /** Per sample, the positions up to and including its last real token (at least 1). */
    int[] realLengths() {
        int[] lengths = new int[inputs.size()];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = Math.max(1, realLength(inputs.get(i)));
        }
        return lengths;
    }

    /** Positions up to and including the sample's last {@code attention_mask} 1 (0 when it has none). */
    private static int realLength(Map<String, FloatTensor> sample) {
        float[] mask = sample.get(Graphs.ATTENTION_MASK).data();
        for (int p = mask.length - 1; p >= 0; p--) {
            if (mask[p] != 0) {
                return p + 1;
            }
        }
        return 0;
    }

    /** The program to load for these samples: the prefix program, or {@code program} itself when it cannot be cut. */
    public Program program(Program program) {
        if (length == seqLen) {
            return program;
        }
        try {
            return SequencePrefix.apply(program, length);
        } catch (MilException e) {
            return program;
        }
    }

    /** The inputs for a program returned by {@link #program}: cut for a prefix program, full for a whole one. */
    private List<Map<String, FloatTensor>> inputsFor(Program loaded) {
        return SequencePrefix.seqLen(loaded) == length ? inputs : full;
    }

    /** Outputs of a program returned by {@link #program}, cut to the prefix (a no-op for a prefix program's). */
    private List<Map<String, FloatTensor>> outputsOf(List<Map<String, FloatTensor>> outputs) {
        return cut(outputs, seqLen, length, false);
    }

    /**
     * Per-token outputs at full length ({@code (1, S, ...)}, one map per sample in order, e.g. from
     * {@link #fullLength}) cut to this prefix; other outputs as they are. The first samples of a longer
     * list are these samples when they were tokenized alike, so outputs of more samples serve fewer.
     */
    public List<Map<String, FloatTensor>> cut(List<Map<String, FloatTensor>> fullLengthOutputs) {
        return cut(fullLengthOutputs, seqLen, length, false);
    }

    /**
     * Golden outputs at full length (e.g. {@link Golden#fullLength}) cut to these samples and this prefix, as
     * {@link #cut(List)} does, but read as held: the first {@code inputs().size()} samples, with their per-token
     * tensors' held elements cut to the prefix and nothing expanded.
     */
    public GoldenOutputs cut(GoldenOutputs fullLength) {
        if (fullLength.samples().size() < inputs.size()) {
            throw new IllegalArgumentException("sample prefix: " + fullLength.samples().size() + " golden samples for "
                    + inputs.size() + " samples");
        }
        List<GoldenOutputs.Sample> out = new ArrayList<>();
        for (GoldenOutputs.Sample sample : fullLength.samples().subList(0, inputs.size())) {
            Map<String, GoldenTensor> m = new LinkedHashMap<>();
            sample.tensors().forEach((name, t) -> {
                int[] s = t.shape();
                if (t.holdsSomePositionsOnly()) { // golden format 3 as stored: convert compares the outputs it computed
                    throw new IllegalArgumentException("sample prefix: golden output '" + name + "' holds positions "
                            + Arrays.toString(t.heldPositions()) + " only; cut the golden outputs as computed, before"
                            + " HeldPositions reduces them for storage");
                }
                if (!Graphs.perToken(name, s, seqLen) || length == seqLen) {
                    m.put(name, t);
                    return;
                }
                int[] shape = s.clone();
                shape[1] = length;
                int keep = Math.min(t.stored().length, t.size() / seqLen * length);
                m.put(name, new GoldenTensor(shape, keep == t.stored().length ? t.stored() : Arrays.copyOf(t.stored(), keep)));
            });
            out.add(new GoldenOutputs.Sample(sample.id(), m));
        }
        return new GoldenOutputs(out);
    }

    /**
     * Outputs on this prefix ({@link #run}, {@link #runRealTokens}) laid out at full length {@code (1, S, ...)},
     * the shape a variant's outputs have, holding each sample's real tokens and 0 at every other position:
     * per-token outputs beyond the real tokens are not computed (or are padding, which fidelity skips), and
     * zeros keep such outputs the same bytes on every run. Outputs without a sequence axis stay as they are.
     * {@link #realTokens} is the same values without allocating the padding.
     */
    public List<Map<String, FloatTensor>> fullLength(List<Map<String, FloatTensor>> outputs) {
        List<Map<String, FloatTensor>> out = new ArrayList<>();
        for (Map<String, GoldenTensor> sample : realTokens(outputs)) {
            Map<String, FloatTensor> m = new LinkedHashMap<>();
            sample.forEach((name, t) -> m.put(name, t.expand()));
            out.add(m);
        }
        return out;
    }

    /**
     * {@link #fullLength}, held as golden tensors: a per-token output's shape is {@code (1, S, ...)} but it holds
     * only the positions up to its sample's last real token (0 at a padded position before it), so the padded
     * positions after it, most of the sequence, are never allocated. What the golden outputs blob stores.
     */
    public List<Map<String, GoldenTensor>> realTokens(List<Map<String, FloatTensor>> outputs) {
        if (outputs.size() != inputs.size()) {
            throw new IllegalArgumentException("sample prefix: " + outputs.size() + " outputs for " + inputs.size()
                    + " samples");
        }
        List<Map<String, GoldenTensor>> out = new ArrayList<>();
        for (int i = 0; i < outputs.size(); i++) {
            float[] mask = full.get(i).get(Graphs.ATTENTION_MASK).data();
            int real = Math.min(length, realLength(full.get(i)));
            Map<String, GoldenTensor> m = new LinkedHashMap<>();
            for (Map.Entry<String, FloatTensor> e : outputs.get(i).entrySet()) {
                FloatTensor t = e.getValue();
                int[] s = t.shape();
                if (!Graphs.perToken(e.getKey(), s, length)) {
                    m.put(e.getKey(), GoldenTensor.of(t));
                    continue;
                }
                int row = t.size() / length;
                float[] data = new float[row * real];
                for (int p = 0; p < real; p++) {
                    if (mask[p] != 0) {
                        System.arraycopy(t.data(), p * row, data, p * row, row);
                    }
                }
                int[] shape = s.clone();
                shape[1] = seqLen;
                m.put(e.getKey(), new GoldenTensor(shape, data));
            }
            out.add(m);
        }
        return out;
    }
}
