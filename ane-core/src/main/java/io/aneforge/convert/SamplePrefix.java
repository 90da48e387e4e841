package io.aneforge.convert;

import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.GoldenTensor;
import io.aneforge.graph.Graphs;
import io.aneforge.mil.MilException;
import io.aneforge.mil.Program;
import io.aneforge.mil.SequencePrefix;
import io.aneforge.runtime.reference.ReferenceModel;
import io.aneforge.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ObjIntConsumer;

/**
 * Fidelity samples, each cut to a short prefix of the sequence that holds its real tokens, a
 * multiple of {@value #QUANTUM}, and programs run on those prefixes ({@link SequencePrefix}): one
 * cut program per distinct prefix length, loaded once for the samples of that length. A sample's
 * prefix is its real tokens rounded up to 16, unless fewer than {@value #MIN_SAMPLES_PER_LENGTH}
 * samples would share that length: then it runs on the next longer one (see
 * {@link #MIN_SAMPLES_PER_LENGTH}). Of the 32 fixed samples the golden pass runs, 11 then run on
 * 16 positions, 19 on 32 and 2 on 64 (912 positions, where all 32 on the longest one's 64 made
 * 2048); the 8 samples of a default {@code convert}'s fidelity (3 of which fit 16) all run on 32.
 * The real-token outputs are the same floats as the whole program's ({@code SamplePrefixTest},
 * which also compares them with every sample on its own rounded length and with every sample on the
 * longest one's prefix, {@link #common}).
 *
 * <p>Why a multiple of 16: the kernels sum rows in 4 partial sums and vectors of up to 16
 * lanes; with the prefix a multiple of both, the padded positions the whole program has beyond
 * the prefix only add exact zeros to the same partial sums, in the same order. So any multiple
 * of 16 that holds a sample's real tokens gives it the same floats there, whichever other
 * samples it runs with.
 *
 * <p>Outputs come back with the sample's own prefix length on their sequence axis
 * ({@code (1, lengths()[i], ...)}), as do its {@link #inputs()}, so golden and candidate outputs
 * of the same prefix compare position by position, and {@link VariantFidelity#realTokens} with
 * {@link #inputs()} picks the same real tokens as it would at full length.
 */
public final class SamplePrefix {
    /** A prefix length is a multiple of this (see the class comment). */
    public static final int QUANTUM = 16;

    /**
     * Samples a prefix length must have to get a program of its own; fewer run on the next longer length. Each
     * program is loaded and its weights packed once per length (per group of predictions for a group of up to
     * {@link ReferenceModel#GROUP}), which a length group smaller than one prediction group does not win back:
     * on all-MiniLM-L6-v2, one kernel thread, the default 8 samples' 3 on 16 positions and 5 on 32 took 76–96 ms
     * of CPU per read-back package against 58–72 ms for all 8 on 32, while the golden pass over the 32 fixed
     * samples took 236–239 ms on 16, 32 and 64 positions (222–249 ms with 48 as a fourth length, one sample's)
     * against 285–329 ms for all on 64 (docs/converter.md, "Where the time goes with fidelity on", twelfth round).
     * Those numbers include each length's weight packing, which the lengths of one run now share
     * ({@link ProgramEvaluator#sharingWeights}, thirteenth round); the rule was not measured again since.
     */
    public static final int MIN_SAMPLES_PER_LENGTH = ReferenceModel.GROUP;

    private final List<Map<String, FloatTensor>> full;
    private final List<Map<String, FloatTensor>> inputs;
    private final int seqLen;
    /** Per sample, its prefix length. */
    private final int[] lengths;

    private SamplePrefix(List<Map<String, FloatTensor>> full, int seqLen, int[] lengths) {
        this.full = List.copyOf(full);
        this.seqLen = seqLen;
        this.lengths = lengths;
        List<Map<String, FloatTensor>> cut = new ArrayList<>();
        for (int i = 0; i < full.size(); i++) {
            cut.add(cut(full.get(i), seqLen, lengths[i], true));
        }
        this.inputs = List.copyOf(cut);
    }

    /**
     * Each sample on its own prefix: its real tokens rounded up to a multiple of {@value #QUANTUM} (at least
     * {@value #QUANTUM}, at most S), or the next longer such length of another sample when fewer than
     * {@value #MIN_SAMPLES_PER_LENGTH} samples would share it. {@code full} are full-length sample inputs
     * ({@link Golden#inputs}): every input is {@code (1, S)}, and positions at or after each sample's last
     * {@code attention_mask} 1 are padding.
     */
    public static SamplePrefix of(List<Map<String, FloatTensor>> full) {
        return of(full, MIN_SAMPLES_PER_LENGTH);
    }

    /**
     * {@link #of} with a prefix length shared by fewer than {@code minShare} samples (counting those carried up to it)
     * merged into the next longer one, the longest excepted; 1 puts every sample on its own rounded length.
     */
    static SamplePrefix of(List<Map<String, FloatTensor>> full, int minShare) {
        int seqLen = seqLen(full);
        int[] lengths = new int[full.size()];
        TreeMap<Integer, List<Integer>> byLength = new TreeMap<>();
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = prefixLength(realLength(full.get(i)), seqLen);
            byLength.computeIfAbsent(lengths[i], k -> new ArrayList<>()).add(i);
        }
        List<Integer> carried = new ArrayList<>();
        for (Map.Entry<Integer, List<Integer>> e : byLength.entrySet()) {
            carried.addAll(e.getValue());
            if (carried.size() >= minShare || e.getKey().equals(byLength.lastKey())) {
                for (int i : carried) {
                    lengths[i] = e.getKey();
                }
                carried.clear();
            }
        }
        return new SamplePrefix(full, seqLen, lengths);
    }

    /**
     * Every sample on the longest one's prefix (what {@link #of} gave before each sample had its own): one cut
     * program for all of them. The same floats on real tokens as {@link #of}; for comparisons with it, and callers
     * that want one program.
     */
    public static SamplePrefix common(List<Map<String, FloatTensor>> full) {
        int seqLen = seqLen(full);
        int last = 0;
        for (Map<String, FloatTensor> sample : full) {
            last = Math.max(last, realLength(sample));
        }
        int[] lengths = new int[full.size()];
        Arrays.fill(lengths, prefixLength(last, seqLen));
        return new SamplePrefix(full, seqLen, lengths);
    }

    /** No cut: programs run whole on {@code full} (for comparisons with the prefix, and callers that want every position). */
    public static SamplePrefix whole(List<Map<String, FloatTensor>> full) {
        int seqLen = seqLen(full);
        int[] lengths = new int[full.size()];
        Arrays.fill(lengths, seqLen);
        return new SamplePrefix(full, seqLen, lengths);
    }

    /** {@code real} positions rounded up to a multiple of {@value #QUANTUM}, at least {@value #QUANTUM}, at most S. */
    private static int prefixLength(int real, int seqLen) {
        return Math.min(seqLen, Math.max(QUANTUM, (real + QUANTUM - 1) / QUANTUM * QUANTUM));
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
     * Keeps the first {@code length} positions of axis 1 of every {@code (1, S, ...)} input of one sample, or of
     * every per-token output ({@link Graphs#perToken}: (1, S, C) and question answering's (1, S) logits, while a
     * (1, C) pooled output or a classifier's (1, L) logits may have C = S).
     */
    private static Map<String, FloatTensor> cut(Map<String, FloatTensor> sample, int seqLen, int length, boolean inputs) {
        Map<String, FloatTensor> m = new LinkedHashMap<>();
        sample.forEach((name, t) -> m.put(name, cut(t, seqLen, length,
                inputs ? t.rank() >= 2 : Graphs.perToken(name, t.shape(), seqLen))));
        return m;
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

    /** Per sample, in sample order, its prefix length (S when nothing is cut). */
    public int[] lengths() {
        return lengths.clone();
    }

    /** The longest prefix of the samples: the most positions any prediction runs on. */
    public int longest() {
        return Arrays.stream(lengths).max().orElseThrow();
    }

    /** The sample inputs, each cut to its own prefix, in sample order. */
    public List<Map<String, FloatTensor>> inputs() {
        return inputs;
    }

    /**
     * Runs a whole-sequence program (S positions) on the samples and returns each sample's outputs cut to its
     * prefix, in sample order: per prefix length, the program's {@link SequencePrefix} on those samples' prefix
     * inputs, or, when it cannot be cut ({@link MilException}), the whole program on the full inputs with its
     * outputs cut afterwards.
     */
    public List<Map<String, FloatTensor>> run(Program program, ProgramEvaluator evaluator) {
        return collect(program, evaluator, false);
    }

    /**
     * {@link #run}, but only the real tokens of per-token outputs are computed for sure (and outputs
     * without a sequence axis): positions past a sample's last real token are unspecified
     * ({@link ProgramEvaluator#runRealTokens}), which is all fidelity reads ({@link VariantFidelity#realTokens}).
     */
    public List<Map<String, FloatTensor>> runRealTokens(Program program, ProgramEvaluator evaluator) {
        return collect(program, evaluator, true);
    }

    /**
     * {@link #runRealTokens}, handing each sample's outputs to {@code each} with the sample's index (samples of one
     * prefix length together, shorter lengths first) as soon as they are computed, with at most {@code chunk}
     * predictions run together ({@link ProgramEvaluator#runEach}): a caller that keeps only part of each sample's
     * outputs holds at most {@code chunk} samples' outputs whole. The same floats as {@link #runRealTokens}.
     */
    public void runRealTokens(Program program, ProgramEvaluator evaluator, int chunk,
                              ObjIntConsumer<Map<String, FloatTensor>> each) {
        runEach(program, evaluator, true, chunk, each);
    }

    private List<Map<String, FloatTensor>> collect(Program program, ProgramEvaluator evaluator, boolean realOnly) {
        List<Map<String, FloatTensor>> out = new ArrayList<>(Collections.nCopies(inputs.size(), null));
        runEach(program, evaluator, realOnly, inputs.size(), (outputs, i) -> out.set(i, outputs));
        return out;
    }

    /**
     * Per prefix length, shortest first, the samples of that length on the program cut to it. A program that
     * cannot be cut runs whole, once, on every sample not run yet (whether a program can be cut does not depend on
     * the length, so this is the first length when it happens).
     */
    private void runEach(Program program, ProgramEvaluator evaluator, boolean realOnly, int chunk,
                         ObjIntConsumer<Map<String, FloatTensor>> each) {
        int[] real = realOnly ? realLengths() : null;
        List<Integer> left = new ArrayList<>();
        for (int i = 0; i < lengths.length; i++) {
            left.add(i);
        }
        left.sort(Comparator.comparingInt(i -> lengths[i])); // stable: sample order within a length
        // The prefix programs keep the whole program's weight ops, so with more than one length each weight is
        // packed for the products once for all of them (ProgramEvaluator.sharingWeights), not once per length. One
        // length has nothing to share with: none, so a runtime holds no packed copy for a program run once.
        boolean severalLengths = Arrays.stream(lengths).distinct().count() > 1;
        try (ProgramEvaluator.Sharing sharing = severalLengths ? evaluator.sharingWeights()
                : ProgramEvaluator.Sharing.none(evaluator)) {
            while (!left.isEmpty()) {
                int length = lengths[left.get(0)];
                Program loaded = program(program, length);
                boolean cut = SequencePrefix.seqLen(loaded) == length;
                List<Integer> members = cut ? left.stream().filter(i -> lengths[i] == length).toList() : List.copyOf(left);
                List<Map<String, FloatTensor>> in = members.stream().map(i -> cut ? inputs.get(i) : full.get(i)).toList();
                int[] realOfMembers = real == null ? null : members.stream().mapToInt(i -> real[i]).toArray();
                sharing.evaluator().runEach(loaded, in, realOfMembers, chunk, (outputs, j) -> {
                    int i = members.get(j);
                    each.accept(cut(outputs, seqLen, lengths[i], false), i); // a no-op for a prefix program's outputs
                });
                left.removeAll(members);
            }
        }
    }

    /** Per sample, the positions up to and including its last real token (at least 1). */
    int[] realLengths() {
        int[] real = new int[inputs.size()];
        for (int i = 0; i < real.length; i++) {
            real[i] = Math.max(1, realLength(inputs.get(i)));
        }
        return real;
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

    /**
     * The program to load for samples of prefix {@code length}: the prefix program, or {@code program} itself when
     * {@code length} is its whole sequence or it cannot be cut.
     */
    public static Program program(Program program, int length) {
        try {
            return length == SequencePrefix.seqLen(program) ? program : SequencePrefix.apply(program, length);
        } catch (MilException e) {
            return program;
        }
    }

    /**
     * Per-token outputs at full length ({@code (1, S, ...)}, one map per sample in sample order, e.g. from
     * {@link #fullLength}) each cut to its sample's prefix; other outputs as they are. Full-length outputs do not
     * depend on any prefix, so outputs of the first samples of a longer list (tokenized alike) serve these samples.
     */
    public List<Map<String, FloatTensor>> cut(List<Map<String, FloatTensor>> fullLengthOutputs) {
        requireOneMapPerSample(fullLengthOutputs.size(), "full-length outputs");
        List<Map<String, FloatTensor>> out = new ArrayList<>();
        for (int i = 0; i < fullLengthOutputs.size(); i++) {
            out.add(cut(fullLengthOutputs.get(i), seqLen, lengths[i], false));
        }
        return out;
    }

    private void requireOneMapPerSample(int count, String what) {
        if (count != inputs.size()) {
            throw new IllegalArgumentException("sample prefix: " + count + " " + what + " for " + inputs.size()
                    + " samples");
        }
    }

    /**
     * Golden outputs at full length (e.g. {@link Golden#fullLength}) cut to these samples and their prefixes, as
     * {@link #cut(List)} does, but read as held: the first {@code inputs().size()} samples, with their per-token
     * tensors' held elements cut to the prefix and nothing expanded.
     */
    public GoldenOutputs cut(GoldenOutputs fullLength) {
        if (fullLength.samples().size() < inputs.size()) {
            throw new IllegalArgumentException("sample prefix: " + fullLength.samples().size() + " golden samples for "
                    + inputs.size() + " samples");
        }
        List<GoldenOutputs.Sample> out = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            GoldenOutputs.Sample sample = fullLength.samples().get(i);
            int length = lengths[i];
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
     * Outputs on the samples' prefixes ({@link #run}, {@link #runRealTokens}) laid out at full length
     * {@code (1, S, ...)}, the shape a variant's outputs have, holding each sample's real tokens and 0 at every
     * other position: per-token outputs beyond the real tokens are not computed (or are padding, which fidelity
     * skips), and zeros keep such outputs the same bytes on every run. Outputs without a sequence axis stay as they
     * are. {@link #realTokens} is the same values without allocating the padding.
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
        requireOneMapPerSample(outputs.size(), "outputs");
        List<Map<String, GoldenTensor>> out = new ArrayList<>();
        for (int i = 0; i < outputs.size(); i++) {
            out.add(realTokens(i, outputs.get(i)));
        }
        return out;
    }

    /** {@link #realTokens(List)} of one sample: {@code outputs} are sample {@code sample}'s, on its prefix. */
    public Map<String, GoldenTensor> realTokens(int sample, Map<String, FloatTensor> outputs) {
        float[] mask = full.get(sample).get(Graphs.ATTENTION_MASK).data();
        int length = lengths[sample];
        int real = Math.min(length, realLength(full.get(sample)));
        Map<String, GoldenTensor> m = new LinkedHashMap<>();
        for (Map.Entry<String, FloatTensor> e : outputs.entrySet()) {
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
        return m;
    }
}
