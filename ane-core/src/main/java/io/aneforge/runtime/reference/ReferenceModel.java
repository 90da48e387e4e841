package io.aneforge.runtime.reference;

import io.aneforge.kernels.Fp16;
import io.aneforge.kernels.Parallel;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilException;
import io.aneforge.mil.TensorType;
import io.aneforge.mil.Var;
import io.aneforge.runtime.LoadedModel;
import io.aneforge.runtime.PredictionException;
import io.aneforge.tensor.FloatTensor;

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
        if (closed) {
            throw new IllegalStateException("model is closed");
        }
        if (Parallel.threads() != threads) {
            Parallel.setThreads(threads);
        }
        FloatTensor[] frame = plan.newFrame();
        Set<float[]> notCounted = Collections.newSetFromMap(new IdentityHashMap<>());
        bindInputs(inputs, frame, notCounted);
        Map<float[], int[]> refs = new IdentityHashMap<>();
        long live = 0;
        long peak = 0;
        boolean fp16 = plan.fp16();
        for (ExecutionPlan.Step step : plan.steps()) {
            FloatTensor[] outs;
            try {
                outs = step.kernel().run(frame);
            } catch (MilException e) {
                throw new PredictionException("op '" + step.op().name() + "' (" + step.op().type() + ") cannot run on these inputs: "
                        + e.getMessage(), e);
            }
            if (outs.length != step.outputSlots().length) {
                throw new IllegalStateException("op '" + step.op().name() + "' returned " + outs.length + " outputs, expected "
                        + step.outputSlots().length);
            }
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
        lastPeakBytes = peak;
        peakBytes = Math.max(peakBytes, peak);
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
