package io.aneforge.runtime.reference;

import io.aneforge.kernels.Fp16;
import io.aneforge.mil.Arg;
import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.EvalContext;
import io.aneforge.mil.OpDef;
import io.aneforge.mil.Operation;
import io.aneforge.mil.Ops;
import io.aneforge.mil.Program;
import io.aneforge.mil.TensorType;
import io.aneforge.mil.Var;
import io.aneforge.mil.WeightRows;
import io.aneforge.kernels.Gemm;
import io.aneforge.tensor.FloatTensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A program compiled for repeated predictions. Every value (function input, op output,
 * immediate constant) gets a slot in a frame; slots known at load time (constants,
 * dequantized weights, and anything computed only from them) are filled once here and
 * shared by every prediction. The remaining ops become {@link Step}s in the program's
 * (topological) order, each with the slots it is the last reader of.
 */
public final class ExecutionPlan {

    /** One op to run: its kernel, where its outputs go, and which slots die after it. */
    record Step(Operation op, Kernel kernel, int[] outputSlots, TensorType[] outputTypes, int[] releaseAfter) {
    }

    private final Program program;
    private final boolean fastKernels;
    private final boolean fp16;
    private final FloatTensor[] loadTimeValues;
    private final Set<float[]> loadTimeArrays;
    private final int[] inputSlots;
    private final int[] outputSlots;
    private final List<Step> steps;
    private final int fastSteps;

    private ExecutionPlan(Program program, boolean fastKernels, boolean fp16, FloatTensor[] loadTimeValues,
                          int[] inputSlots, int[] outputSlots, List<Step> steps) {
        this.program = program;
        this.fastKernels = fastKernels;
        this.fp16 = fp16;
        this.loadTimeValues = loadTimeValues;
        this.inputSlots = inputSlots;
        this.outputSlots = outputSlots;
        this.steps = List.copyOf(steps);
        Set<float[]> arrays = Collections.newSetFromMap(new IdentityHashMap<>());
        for (FloatTensor t : loadTimeValues) {
            if (t != null) {
                arrays.add(t.data());
            }
        }
        this.loadTimeArrays = arrays;
        this.fastSteps = (int) steps.stream().filter(s -> s.kernel() instanceof FastKernels.Fast).count();
    }

    /**
     * Compiles a validated program.
     *
     * @param fastKernels use the kernels of {@code io.aneforge.kernels} where an op has one;
     *                    otherwise every op runs its scalar reference evaluation
     * @param fp16        round every float value (load-time values and op outputs) to FP16
     */
    public static ExecutionPlan compile(Program program, boolean fastKernels, boolean fp16) {
        return compile(program, fastKernels, fp16, false);
    }

    /**
     * As {@link #compile(Program, boolean, boolean)}; {@code packOnUse}: the matrix kernels of weights still encoded
     * at load pack them as each product uses them ({@link Gemm#packTransposedOnUse}, {@link Gemm#packAOnUse}) instead
     * of holding packed float copies, for a plan that runs one group of predictions and is dropped (the converter's
     * fidelity check). Same outputs, bit for bit.
     */
    public static ExecutionPlan compile(Program program, boolean fastKernels, boolean fp16, boolean packOnUse) {
        return compile(program, fastKernels, fp16, packOnUse, null);
    }

    /**
     * As {@link #compile(Program, boolean, boolean, boolean)}; with {@code shared} (null: none), for the plans of
     * programs that hold the same weight ops ({@link PackedWeights}), the matrix kernels take the packed copy of a
     * weight still encoded at load from {@code shared} when an earlier plan put it there. Otherwise a plan that packs
     * at load packs it into {@code shared}, which holds it until closed; one that packs on use packs it on use, as
     * without {@code shared}, and holds nothing (so sharing never turns a single group's pack-on-use into a packed
     * copy held for all the programs). Same outputs, bit for bit.
     */
    public static ExecutionPlan compile(Program program, boolean fastKernels, boolean fp16, boolean packOnUse,
                                        PackedWeights shared) {
        Map<String, Integer> varSlots = new HashMap<>();
        Map<Constant, Integer> immediateSlots = new IdentityHashMap<>();
        List<FloatTensor> known = new ArrayList<>(); // slot -> load-time value (null = computed per prediction)
        int[] inputSlots = new int[program.inputs().size()];
        for (int i = 0; i < inputSlots.length; i++) {
            inputSlots[i] = newSlot(varSlots, program.inputs().get(i).name(), known);
        }
        Set<float[]> owned = Collections.newSetFromMap(new IdentityHashMap<>());
        Slots slots = new Slots(varSlots, immediateSlots, known, fp16, owned, packOnUse, shared);
        // Gather-only tables stay encoded (GatherRows); the scalar plan, the definition, decodes everything.
        Set<String> gatherOnly = fastKernels ? GatherRows.gatherOnly(program) : Set.of();
        Map<Integer, GatherRows.Table> tables = new HashMap<>();
        // Slots some prediction step reads from its frame; a load-time value no step reads there (a weight
        // every reader copied into its own layout at load) is not kept in the frame.
        java.util.BitSet frameRead = new java.util.BitSet();
        List<Operation> ops = new ArrayList<>();
        List<Step> steps = new ArrayList<>();
        for (Operation raw : program.operations()) {
            OpDef def = Ops.get(raw.type());
            Operation op = Ops.withDefaults(raw, program.target());
            // A constexpr op's evaluator reads its arguments as Constants (OpContext.constant), never as
            // tensors, so its immediates (the int8/int4 data, scales, offsets of a quantized weight) get no
            // decoded copy: decoding them doubled a quantized package's load work and kept a float copy of
            // every quantized weight for the model's lifetime.
            boolean constexpr = op.type().startsWith("constexpr_");
            for (List<Arg> args : op.inputs().values()) {
                for (Arg a : args) {
                    if (a instanceof Constant c && c.dtype() != DType.STRING && !constexpr && !immediateSlots.containsKey(c)) {
                        immediateSlots.put(c, known.size());
                        // FP16 data decodes to floats FP16 already holds: rounding them again changes nothing
                        known.add(c.dtype() == DType.FP16 ? c.toFloatTensor() : maybeRound(c.toFloatTensor(), c.dtype(), fp16, owned));
                        slots.markLoadTime(known.size() - 1);
                    }
                }
            }
            int[] outs = new int[op.outputs().size()];
            TensorType[] types = new TensorType[outs.length];
            for (int i = 0; i < outs.length; i++) {
                outs[i] = newSlot(varSlots, op.outputs().get(i).name(), known);
                types[i] = op.outputs().get(i).type();
            }
            if (outs.length == 1 && gatherOnly.contains(op.outputs().get(0).name()) && slots.allLoadTime(op)) {
                GatherRows.Table table = GatherRows.table(op, types[0], roundsToFp16(op, types[0], fp16));
                if (table != null) {
                    tables.put(outs[0], table); // no value in the frame: its gathers decode the rows they read
                    continue;
                }
            }
            Kernel scalar = scalarKernel(op, def, slots);
            if (slots.allLoadTime(op)) {
                WeightRows rows = fastKernels && outs.length == 1 ? WeightRows.of(op) : null;
                if (rows != null) {
                    // a weight: decoded when a consumer asks for its value, or packed from its rows by a
                    // kernel that copies it into its own layout (never decoded whole, see Slots.loadTimeSource)
                    slots.defer(outs[0], new Deferred(op, raw, scalar, types[0], rows));
                    continue;
                }
                // const, constexpr (weight dequantization) and anything fed only by them: evaluate once now
                slots.materializeArgs(op);
                FloatTensor[] values = runLoadTime(op, def, scalar, slots);
                for (int i = 0; i < outs.length; i++) {
                    known.set(outs[i], values[i] == null || decodedFp16(op, types[i]) ? values[i]
                            : maybeRound(values[i], types[i].dtype(), fp16, owned));
                    slots.markLoadTime(outs[i]);
                }
                continue;
            }
            Kernel kernel = null;
            GatherRows.Table gathered = op.type().equals("gather") && op.inputs().get("x").get(0) instanceof Var x
                    ? tables.get(slots.slot(x)) : null;
            if (gathered != null) {
                kernel = GatherRows.kernel(op, gathered, slots.slot(op.inputs().get("indices").get(0)), types[0]);
            } else if (fastKernels) {
                kernel = FastKernels.create(op, def, slots);
            }
            java.util.BitSet copied = slots.takeCopiedAtLoad();
            for (List<Arg> args : op.inputs().values()) {
                for (Arg a : args) {
                    Integer s = slots.slotOrNull(a);
                    if (s != null && (kernel == null || !copied.get(s))) {
                        frameRead.set(s);
                    }
                }
            }
            ops.add(op);
            steps.add(new Step(op, kernel != null ? kernel : scalar, outs, types, null));
        }
        int[] outputSlots = program.outputs().stream().mapToInt(v -> varSlots.get(v.name())).toArray();
        // last reader of each slot; program outputs and load-time values live for the whole prediction
        int[] lastUse = new int[known.size()];
        Arrays.fill(lastUse, -1);
        for (int s = 0; s < steps.size(); s++) {
            for (int slot : steps.get(s).outputSlots()) {
                lastUse[slot] = Math.max(lastUse[slot], s); // unread outputs die right after their producer
            }
            for (List<Arg> args : ops.get(s).inputs().values()) {
                for (Arg a : args) {
                    if (a instanceof Var v) {
                        lastUse[varSlots.get(v.name())] = s;
                    }
                }
            }
        }
        for (int slot : outputSlots) {
            lastUse[slot] = Integer.MAX_VALUE;
        }
        List<List<Integer>> release = new ArrayList<>();
        for (int s = 0; s < steps.size(); s++) {
            release.add(new ArrayList<>());
        }
        for (int slot = 0; slot < lastUse.length; slot++) {
            if (!slots.isLoadTime(slot) && lastUse[slot] >= 0 && lastUse[slot] < steps.size()) {
                release.get(lastUse[slot]).add(slot);
            }
        }
        List<Step> planned = new ArrayList<>();
        for (int s = 0; s < steps.size(); s++) {
            Step st = steps.get(s);
            planned.add(new Step(st.op(), st.kernel(), st.outputSlots(), st.outputTypes(),
                    release.get(s).stream().mapToInt(Integer::intValue).toArray()));
        }
        FloatTensor[] values = new FloatTensor[known.size()];
        for (int slot = 0; slot < values.length; slot++) {
            values[slot] = slots.isLoadTime(slot) && (frameRead.get(slot) || lastUse[slot] == Integer.MAX_VALUE)
                    ? slots.value(slot) : null;
        }
        return new ExecutionPlan(program, fastKernels, fp16, values, inputSlots, outputSlots, planned);
    }

    private static int newSlot(Map<String, Integer> varSlots, String name, List<FloatTensor> known) {
        if (varSlots.putIfAbsent(name, known.size()) != null) {
            throw new IllegalStateException("var '" + name + "' is defined twice in a validated program");
        }
        known.add(null);
        return known.size() - 1;
    }

    /** A {@code const}'s FP16 data: it decodes to floats FP16 already holds, so it is never rounded again. */
    private static boolean decodedFp16(Operation op, TensorType type) {
        return op.type().equals("const") && type.dtype() == DType.FP16;
    }

    /** Whether a load-time value of this op and type is rounded to FP16, as {@link #compile} and {@link #maybeRound} round it. */
    private static boolean roundsToFp16(Operation op, TensorType type, boolean fp16) {
        return fp16 && !decodedFp16(op, type) && (type.dtype() == DType.FP32 || type.dtype() == DType.FP16);
    }

    /**
     * {@code t} rounded to FP16 when the plan computes in FP16 and {@code t} is a float. {@code owned}
     * holds the arrays of the load-time values so far: an array not among them was just made for
     * this value (a decoded constant, a dequantized weight) and is rounded in place; one that is
     * (a reshape of a weight shares its array) is copied, so no other value changes under it.
     */
    static FloatTensor maybeRound(FloatTensor t, DType dtype, boolean fp16, Set<float[]> owned) {
        if (!fp16 || !(dtype == DType.FP32 || dtype == DType.FP16)) {
            owned.add(t.data());
            return t;
        }
        if (owned.contains(t.data())) {
            return new FloatTensor(t.shape(), Fp16.rounded(t.data()));
        }
        Fp16.roundInPlace(t.data());
        owned.add(t.data());
        return t;
    }

    /**
     * A weight op whose value is not computed yet: the op with its defaults filled in, the program's own op (the
     * {@link PackedWeights} key: {@link Ops#withDefaults} may make a new copy in every compile), its evaluation,
     * type and row decoder.
     */
    private record Deferred(Operation op, Operation raw, Kernel scalar, TensorType type, WeightRows rows) {
    }

    private static FloatTensor[] runLoadTime(Operation op, OpDef def, Kernel scalar, Slots slots) {
        if (op.type().equals("const") && op.output().dtype() == DType.STRING) {
            return new FloatTensor[]{null}; // strings are read through the const's Var by their consumers
        }
        FloatTensor[] frame = slots.known.toArray(new FloatTensor[0]);
        return scalar.run(frame);
    }

    /** The op's scalar reference evaluation, reading its arguments from the frame. */
    private static Kernel scalarKernel(Operation op, OpDef def, Slots slots) {
        List<TensorType> types = op.outputs().stream().map(Var::type).toList();
        Map<String, Integer> argSlots = new HashMap<>();
        for (List<Arg> args : op.inputs().values()) {
            for (Arg a : args) {
                if (a instanceof Var v) {
                    argSlots.put(v.name(), slots.slot(a));
                }
            }
        }
        Map<Constant, Integer> immediates = slots.immediateSlots;
        return frame -> {
            EvalContext c = new EvalContext(def, op.name(), op.inputs(), op.attributes(), types, a -> {
                Integer slot = a instanceof Var v ? argSlots.get(v.name()) : immediates.get(a);
                FloatTensor t = slot == null ? null : frame[slot];
                if (t == null) {
                    throw new IllegalStateException("argument " + a + " of op '" + op.name() + "' has no value when it runs");
                }
                return t;
            });
            return def.evaluator().evaluate(c).toArray(new FloatTensor[0]);
        };
    }

    /** Slot lookup shared by the plan compiler and the fast kernel factory. */
    static final class Slots {
        private final Map<String, Integer> varSlots;
        private final Map<Constant, Integer> immediateSlots;
        private final List<FloatTensor> known;
        private final java.util.BitSet loadTime = new java.util.BitSet();
        private final java.util.BitSet copiedNow = new java.util.BitSet();

        private final boolean fp16;
        private final Set<float[]> owned;
        private final Map<Integer, Deferred> deferred = new HashMap<>();
        private final boolean packOnUse;
        private final PackedWeights shared;

        Slots(Map<String, Integer> varSlots, Map<Constant, Integer> immediateSlots, List<FloatTensor> known, boolean fp16,
              Set<float[]> owned, boolean packOnUse, PackedWeights shared) {
            this.varSlots = varSlots;
            this.immediateSlots = immediateSlots;
            this.known = known;
            this.fp16 = fp16;
            this.owned = owned;
            this.packOnUse = packOnUse;
            this.shared = shared;
        }

        /**
         * op(B) of the weight {@code a}, stored {@code [n, k]} and read from {@code source} (its {@link #loadTimeSource}),
         * packed for the GEMM: the copy a plan already put in this plan's {@link PackedWeights}, if any; else packed
         * now (and put there, when this plan has them), or by each product when the plan packs on use.
         */
        Gemm.Packed packTransposed(Arg a, int k, int n, Gemm.Source source) {
            return pack(a, PackedWeights.Operand.B, n, k, Gemm.Packed.class, () -> Gemm.packTransposed(k, n, source),
                    () -> Gemm.packTransposedOnUse(k, n, source));
        }

        /** As {@link #packTransposed}, for a weight {@code [m, k]} that is the left operand A ({@link Gemm#packA}). */
        Gemm.PackedA packA(Arg a, int m, int k, Gemm.Source source) {
            return pack(a, PackedWeights.Operand.A, m, k, Gemm.PackedA.class, () -> Gemm.packA(m, k, source),
                    () -> Gemm.packAOnUse(m, k, source));
        }

        /**
         * The weight {@code a} packed as {@code operand} ({@code rows x k}): taken from (or, unless this plan packs on
         * use, put in) the shared packs when this plan has them; else packed now, or on use.
         */
        private <P> P pack(Arg a, PackedWeights.Operand operand, int rows, int k, Class<P> type,
                           java.util.function.Supplier<P> now, java.util.function.Supplier<P> onUse) {
            if (shared != null) {
                Deferred d = deferred.get(slot(a));
                boolean round = roundsToFp16(d.op(), d.type(), fp16);
                if (!packOnUse) {
                    return shared.get(d.raw(), operand, rows, k, round, type, now);
                }
                P held = shared.held(d.raw(), operand, rows, k, round, type);
                if (held != null) {
                    return held;
                }
            }
            return packOnUse ? onUse.get() : now.get();
        }

        /** A load-time weight evaluated when first asked for ({@link #value}), or packed from its rows. */
        void defer(int slot, Deferred d) {
            deferred.put(slot, d);
            loadTime.set(slot);
        }

        /**
         * The load-time value in {@code slot}, evaluated now if it was deferred: the op's evaluation, rounded
         * to FP16 as {@link #compile} rounds every load-time value.
         */
        FloatTensor value(int slot) {
            Deferred d = deferred.remove(slot);
            if (d != null) {
                FloatTensor v = d.scalar().run(known.toArray(new FloatTensor[0]))[0];
                known.set(slot, decodedFp16(d.op(), d.type()) ? v : maybeRound(v, d.type().dtype(), fp16, owned));
            }
            return known.get(slot);
        }

        /** Evaluates the deferred weights {@code op} reads, before {@code op} itself is evaluated at load time. */
        void materializeArgs(Operation op) {
            for (List<Arg> args : op.inputs().values()) {
                for (Arg a : args) {
                    if (a instanceof Var v) {
                        value(slot(v));
                    }
                }
            }
        }

        /**
         * A deferred weight as a {@link Gemm.Source} of its elements (row-major), each range decoded and rounded
         * as {@link #value} would hold it, for a kernel that copies the weight into a layout of its own;
         * null when {@code a} is not a deferred weight, or its decoder cannot start a range at every multiple
         * of {@code rowLength} (then the kernel takes {@link #loadTimeValue}).
         */
        Gemm.Source loadTimeSource(Arg a, int rowLength) {
            Integer s = a instanceof Var ? slotOrNull(a) : null;
            Deferred d = s == null ? null : deferred.get(s);
            if (d == null || rowLength % d.rows().unit() != 0) {
                return null;
            }
            WeightRows rows = d.rows();
            boolean round = roundsToFp16(d.op(), d.type(), fp16);
            return (from, dst, off, n) -> {
                rows.decode(from, dst, off, n);
                if (round) {
                    Fp16.roundInPlace(dst, off, off + n);
                }
            };
        }

        /** Whether {@code a} is known at load time (decoded or deferred). */
        boolean isLoadTimeArg(Arg a) {
            if (a instanceof Constant c) {
                return c.dtype() != DType.STRING;
            }
            return loadTime.get(slot(a));
        }

        int slot(Arg a) {
            Integer s = slotOrNull(a);
            if (s == null) {
                throw new IllegalStateException("argument " + a + " has no slot (not defined before use in a validated program)");
            }
            return s;
        }

        /** The slot of {@code a}, or null for an argument that has none (a string, a constexpr op's immediate). */
        Integer slotOrNull(Arg a) {
            return a instanceof Var v ? varSlots.get(v.name()) : immediateSlots.get(a);
        }

        /**
         * Called by a fast kernel being built for {@code a}, a load-time value it has copied into a layout of
         * its own (a packed GEMM weight) and never reads from the frame. If no other step reads it from the
         * frame either, the plan does not keep it ({@link #compile}).
         */
        void copiedAtLoad(Arg a) {
            copiedNow.set(slot(a));
        }

        /** The slots marked by {@link #copiedAtLoad} while the current step's kernel was built, then cleared. */
        java.util.BitSet takeCopiedAtLoad() {
            java.util.BitSet b = (java.util.BitSet) copiedNow.clone();
            copiedNow.clear();
            return b;
        }

        /** The value of {@code a} when it is known at load time (a constant or a weight), else null. */
        FloatTensor loadTimeValue(Arg a) {
            if (a instanceof Constant c) {
                return c.dtype() == DType.STRING ? null : known.get(immediateSlots.get(c));
            }
            int s = slot(a);
            return loadTime.get(s) ? value(s) : null;
        }

        boolean isLoadTime(int slot) {
            return loadTime.get(slot);
        }

        void markLoadTime(int slot) {
            loadTime.set(slot);
        }

        boolean allLoadTime(Operation op) {
            for (List<Arg> args : op.inputs().values()) {
                for (Arg a : args) {
                    if (a instanceof Var v && !loadTime.get(slot(v))) {
                        return false;
                    }
                }
            }
            return true;
        }
    }

    public Program program() {
        return program;
    }

    boolean fastKernels() {
        return fastKernels;
    }

    boolean fp16() {
        return fp16;
    }

    /** A fresh frame holding the load-time values. */
    FloatTensor[] newFrame() {
        return loadTimeValues.clone();
    }

    boolean isLoadTimeArray(float[] data) {
        return loadTimeArrays.contains(data);
    }

    int[] inputSlots() {
        return inputSlots;
    }

    int[] outputSlots() {
        return outputSlots;
    }

    List<Step> steps() {
        return steps;
    }

    /** Number of ops that run per prediction. */
    public int stepCount() {
        return steps.size();
    }

    /** Number of those that run on a fast kernel. */
    public int fastStepCount() {
        return fastSteps;
    }

    /**
     * Bytes of the load-time values predictions read from their frames (weights after dequantization,
     * constants), as FP32. Weights that every reader copied into a kernel layout at load (packed GEMM
     * weights) are held only in that layout and not counted.
     */
    public long loadTimeBytes() {
        long b = 0;
        for (float[] a : loadTimeArrays) {
            b += 4L * a.length;
        }
        return b;
    }
}
