package io.aneforge.runtime.reference;

import io.aneforge.kernels.Fp16;
import io.aneforge.kernels.Parallel;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilException;
import io.aneforge.mil.SequencePrefix;
import io.aneforge.mil.TensorType;
import io.aneforge.mil.Var;
import io.aneforge.runtime.LoadedModel;
import io.aneforge.runtime.PredictionException;
import io.aneforge.tensor.FloatTensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A loaded model of the reference runtime: runs its {@link ExecutionPlan} once per
 * prediction. Not thread-safe (one prediction at a time), like {@link LoadedModel} says.
 *
 * <p>Peak memory: every array an op produces is counted (4 bytes per element, the FP32 the
 * runtime holds) from the step that produces it until the step that last reads it, once
 * per distinct array (reshape shares its input's array). Inputs, constants and weights are
 * not counted; neither are a kernel's own scratch buffers.
 */
public final class ReferenceModel implements LoadedModel {

    private final ExecutionPlan plan;
    private final int threads;
    private long peakBytes;
    private long lastPeakBytes;
    private boolean closed;

    ReferenceModel(ExecutionPlan plan, int threads) {
        this.plan = plan;
        this.threads = threads;
    }

    public ExecutionPlan plan() {
        return plan;
    }

    @Override
    public Map<String, FloatTensor> predict(Map<String, FloatTensor> inputs) {
        return predictAll(List.of(inputs)).get(0);
    }

    /**
     * Op-major: each step of the plan runs for every input (up to {@link #GROUP} at a time) before
     * the next step. A step whose kernel is a {@link GroupKernel} (a 1×1 stride-1 unpadded
     * ungrouped conv with a load-time weight, the ane layout's projections) runs for the whole
     * group in one call, one pass over the weight's rows against every prediction's activations
     * ({@link StackedGemm}), so the weight is streamed from memory once per group instead of once
     * per prediction. Every other step, linear included (stacking its rows measured no faster, see
     * {@code FastKernels.linear}), runs the prediction's own kernel on its own frame. Either way
     * each prediction gets its own output arrays, bit for bit those of {@link #predict} (why the
     * batched conv gives the same floats: {@link StackedGemm}), and is counted on its own: its peak
     * is the peak of one prediction, as documented above, and {@link #lastPeakIntermediateBytes} is
     * the largest of the group's. A group of one (and so {@link #predict}) calls each step's
     * per-prediction entry point.
     */
    @Override
    public List<Map<String, FloatTensor>> predictAll(List<Map<String, FloatTensor>> inputs) {
        return predictAll(inputs, null);
    }

    /**
     * {@link #predictAll(List)} for callers that read only each prediction's first {@code realLengths[i]}
     * positions, the rest being padding ({@code attention_mask} 0): the fidelity predictions, which compare real
     * tokens. The projections whose rows (a {@code linear}) or columns (a 1×1 {@code conv}) are the sequence
     * positions compute only those positions, for all the group's predictions in one product, and leave zeros
     * elsewhere. Everything at positions below {@code realLengths[i]} (and every output without a sequence
     * axis, such as a pooler's) is then, bit for bit, what {@link #predictAll(List)} gives: positions mix only in
     * masked attention, where a padded key's weight is exactly +0 whatever its (finite) values, which is what
     * {@link SequencePrefix} proves of the program; when it cannot follow the program's positions, everything is
     * computed. Positions at and past {@code realLengths[i]} of per-token outputs are unspecified.
     *
     * @param realLengths per input, 1..S (the inputs' sequence length), or null for {@link #predictAll(List)}
     */
    public List<Map<String, FloatTensor>> predictAll(List<Map<String, FloatTensor>> inputs, int[] realLengths) {
        if (closed) {
            throw new IllegalStateException("model is closed");
        }
        if (realLengths != null) {
            int s = SequencePrefix.seqLen(plan.program());
            if (realLengths.length != inputs.size()) {
                throw new IllegalArgumentException(realLengths.length + " real lengths for " + inputs.size() + " inputs");
            }
            for (int len : realLengths) {
                if (len < 1 || len > s) {
                    throw new IllegalArgumentException("real length " + len + " is outside 1.." + s);
                }
            }
        }
        boolean[] positional = realLengths == null ? null : positionalSteps();
        if (Parallel.threads() != threads) {
            Parallel.setThreads(threads);
        }
        List<Map<String, FloatTensor>> results = new ArrayList<>(inputs.size());
        for (int g0 = 0; g0 < inputs.size(); g0 += GROUP) {
            List<Run> runs = new ArrayList<>();
            for (Map<String, FloatTensor> in : inputs.subList(g0, Math.min(inputs.size(), g0 + GROUP))) {
                runs.add(new Run(in));
            }
            int[] live = positional == null ? null : Arrays.copyOfRange(realLengths, g0, g0 + runs.size());
            List<ExecutionPlan.Step> steps = plan.steps();
            for (int si = 0; si < steps.size(); si++) {
                ExecutionPlan.Step step = steps.get(si);
                boolean skip = live != null && positional[si];
                if ((runs.size() > 1 || skip) && step.kernel() instanceof GroupKernel group) {
                    FloatTensor[][] frames = new FloatTensor[runs.size()][];
                    for (int r = 0; r < frames.length; r++) {
                        frames[r] = runs.get(r).frame;
                    }
                    FloatTensor[][] outs;
                    try {
                        outs = skip ? group.runAll(frames, live) : group.runAll(frames);
                    } catch (MilException e) {
                        throw cannotRun(step, e);
                    }
                    for (int r = 0; r < frames.length; r++) {
                        runs.get(r).account(step, outs[r]);
                    }
                } else {
                    for (Run run : runs) {
                        run.step(step);
                    }
                }
            }
            long peak = 0;
            for (Run run : runs) {
                results.add(run.outputs());
                peak = Math.max(peak, run.peak);
            }
            lastPeakBytes = peak;
            peakBytes = Math.max(peakBytes, peak);
        }
        return results;
    }

    /** Per plan step, whether it may skip padded positions (see {@link #predictAll(List, int[])}); computed on first use. */
    private boolean[] positional;

    private boolean[] positionalSteps() {
        if (positional == null) {
            List<ExecutionPlan.Step> steps = plan.steps();
            boolean[] result = new boolean[steps.size()];
            Map<String, boolean[]> axes;
            try {
                axes = SequencePrefix.sequenceAxes(plan.program());
            } catch (MilException e) {
                axes = null; // positions cannot be followed: every step computes every position
            }
            for (int i = 0; axes != null && i < steps.size(); i++) {
                result[i] = steps.get(i).kernel() instanceof GroupKernel && positionsAreRowsOrColumns(steps.get(i).op(), axes);
            }
            positional = result;
        }
        return positional;
    }

    /**
     * A linear whose input is {@code (1, …, 1, S, C)} (rows = positions), or a conv whose input is
     * {@code (1, C, 1, S)} or {@code (1, C, S)} (columns = positions), with S the only sequence axis.
     */
    private static boolean positionsAreRowsOrColumns(io.aneforge.mil.Operation op, Map<String, boolean[]> axes) {
        List<io.aneforge.mil.Arg> xs = op.inputs().get("x");
        if (xs == null || xs.size() != 1 || !(xs.get(0) instanceof Var x) || !axes.containsKey(x.name())) {
            return false;
        }
        boolean[] seq = axes.get(x.name());
        int[] shape = x.shape();
        int at = switch (op.type()) {
            case "linear" -> shape.length - 2;
            case "conv" -> shape.length - 1;
            default -> -1;
        };
        if (at < 0 || (op.type().equals("conv") && (shape.length < 3 || shape.length > 4))) {
            return false;
        }
        for (int d = 0; d < shape.length; d++) {
            boolean isSequence = d == at;
            if (seq[d] != isSequence) {
                return false;
            }
            boolean leading = op.type().equals("linear") ? d < at : d == 0 || d == 2 && shape.length == 4;
            if (leading && shape[d] != 1) {
                return false;
            }
        }
        return true;
    }

    /**
     * Predictions run together by {@link #predictAll}: 8 MiniLM samples at 128 positions hold about
     * 8 × 10 MB of intermediates at once; more would add memory without reading the weights fewer times
     * than once per op and group. At the converter's 32-position fidelity prefix, a group's 1×1 convs
     * share one read of each weight among 8 products.
     */
    public static final int GROUP = 8;

    /** One prediction's state: its frame, the reference counts of its arrays and its live and peak bytes. */
    private final class Run {
        final FloatTensor[] frame = plan.newFrame();
        final Set<float[]> notCounted = Collections.newSetFromMap(new IdentityHashMap<>());
        final Map<float[], int[]> refs = new IdentityHashMap<>();
        long live;
        long peak;

        Run(Map<String, FloatTensor> inputs) {
            bindInputs(inputs, frame, notCounted);
        }

        void step(ExecutionPlan.Step step) {
            FloatTensor[] outs;
            try {
                outs = step.kernel().run(frame);
            } catch (MilException e) {
                throw cannotRun(step, e);
            }
            account(step, outs);
        }

        /**
         * Puts the step's outputs in the frame, counts (and under FP16 activations rounds) each new
         * array once, and releases the slots the step was the last reader of.
         */
        void account(ExecutionPlan.Step step, FloatTensor[] outs) {
            if (outs.length != step.outputSlots().length) {
                throw new IllegalStateException("op '" + step.op().name() + "' returned " + outs.length + " outputs, expected "
                        + step.outputSlots().length);
            }
            boolean fp16 = plan.fp16();
            for (int i = 0; i < outs.length; i++) {
                FloatTensor t = outs[i];
                TensorType type = step.outputTypes()[i];
                if (!Arrays.equals(t.shape(), type.shape())) {
                    throw new IllegalStateException("op '" + step.op().name() + "' (" + step.op().type() + ") produced "
                            + t.shapeString() + " but its output is declared " + type);
                }
                float[] data = t.data();
                boolean external = notCounted.contains(data) || plan.isLoadTimeArray(data);
                if (!external) {
                    int[] count = refs.get(data);
                    if (count == null) {
                        refs.put(data, new int[]{1});
                        live += 4L * data.length;
                        if (fp16 && (type.dtype() == DType.FP32 || type.dtype() == DType.FP16)) {
                            Fp16.roundInPlace(data);
                        }
                    } else {
                        count[0]++;
                    }
                }
                frame[step.outputSlots()[i]] = t;
            }
            peak = Math.max(peak, live);
            for (int slot : step.releaseAfter()) {
                FloatTensor t = frame[slot];
                frame[slot] = null;
                if (t != null) {
                    int[] count = refs.get(t.data());
                    if (count != null && --count[0] == 0) {
                        refs.remove(t.data());
                        live -= 4L * t.data().length;
                    }
                }
            }
        }

        Map<String, FloatTensor> outputs() {
            Map<String, FloatTensor> result = new LinkedHashMap<>();
            List<Var> outs = plan.program().outputs();
            for (int i = 0; i < outs.size(); i++) {
                FloatTensor t = frame[plan.outputSlots()[i]];
                if (notCounted.contains(t.data()) || plan.isLoadTimeArray(t.data())) {
                    t = new FloatTensor(t.shape().clone(), t.data().clone()); // never hand out an input's or a weight's array
                }
                result.put(outs.get(i).name(), t);
            }
            return result;
        }
    }

    private static PredictionException cannotRun(ExecutionPlan.Step step, MilException e) {
        return new PredictionException("op '" + step.op().name() + "' (" + step.op().type() + ") cannot run on these inputs: "
                + e.getMessage(), e);
    }

    /** Checks names and shapes and converts each input to its declared dtype (a copy: callers' arrays are never touched). */
    private void bindInputs(Map<String, FloatTensor> inputs, FloatTensor[] frame, Set<float[]> notCounted) {
        List<Var> declared = plan.program().inputs();
        Set<String> unknown = new TreeSet<>(inputs.keySet());
        for (int i = 0; i < declared.size(); i++) {
            Var in = declared.get(i);
            unknown.remove(in.name());
            FloatTensor t = inputs.get(in.name());
            if (t == null) {
                throw new PredictionException("missing input '" + in.name() + "' of type " + in.type() + "; the model's inputs are "
                        + declared.stream().map(Var::toString).toList());
            }
            if (!Arrays.equals(t.shape(), in.shape())) {
                throw new PredictionException("input '" + in.name() + "' has shape " + t.shapeString() + " but the model expects "
                        + Arrays.toString(in.shape()) + " (shapes are fixed at conversion: pad or truncate to that shape)");
            }
            float[] data = convert(in, t.data());
            notCounted.add(data);
            frame[plan.inputSlots()[i]] = new FloatTensor(in.shape(), data);
        }
        if (!unknown.isEmpty()) {
            throw new PredictionException("unknown input(s) " + unknown + "; the model's inputs are "
                    + declared.stream().map(Var::name).toList());
        }
    }

    private float[] convert(Var in, float[] src) {
        float[] out = new float[src.length];
        DType dtype = in.dtype();
        for (int j = 0; j < src.length; j++) {
            float v = src[j];
            if (dtype == DType.INT32) {
                if (v != Math.rint(v) || Math.abs(v) > 0x1p24f) {
                    throw new PredictionException("input '" + in.name() + "' is int32 but element " + j + " is " + v
                            + "; pass exact integers (token ids, masks) with magnitude at most 2^24");
                }
            } else if (dtype == DType.BOOL) {
                v = v != 0 ? 1f : 0f;
            } else if (dtype == DType.FP16 || plan.fp16()) {
                v = Fp16.round(v);
            }
            out[j] = v;
        }
        return out;
    }

    @Override
    public long peakIntermediateBytes() {
        return peakBytes;
    }

    /** Peak bytes of live intermediates during the most recent prediction. */
    public long lastPeakIntermediateBytes() {
        return lastPeakBytes;
    }

    @Override
    public void close() {
        closed = true;
    }
}
