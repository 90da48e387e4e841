package io.aneforge.mil;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A program cut to the first {@code length} positions of its sequence axis: the same ops and
 * weights, with every sequence-sized dimension {@code S} of the values that flow from the
 * inputs shortened to {@code length}. Fidelity runs it instead of the whole program because the
 * sample sentences are short: 8 samples have 122 real tokens in 8 × 128 positions.
 *
 * <p>What it is for: inputs whose positions {@code >= length} are all padding
 * ({@code attention_mask} 0). Then the prefix program gives the whole program's outputs on the
 * real tokens. Per-token ops (projections, LayerNorm over channels, activations) do not look at
 * other positions. Positions mix only in attention, where a padded key gets the additive mask
 * −1e4, so its softmax weight is exactly {@code +0} (the exponential underflows), and its
 * term in the weighted sum of values adds exactly 0. The runtime's kernels add in the same
 * order for a shorter row when the length is a multiple of 4 (their partial sums), so the
 * floats match bit for bit, which {@code SequencePrefixTest} checks on MiniLM in both layouts and
 * every precision.
 *
 * <p>The rewrite follows the sequence axes from the inputs (all {@code (1, S)}) through each
 * op and refuses ({@link MilException}) whatever it cannot prove position-wise: a reduction or
 * concatenation along the sequence, a sequence axis merged by a reshape, a strided slice, a
 * contraction over the sequence that is not over softmax weights, or an op it does not know.
 * Callers then run the whole program. Constants that broadcast against a sequence axis with size
 * {@code S} (the position-embedding rows), or that spread the mask over the other sequence axis of
 * a causal mask (an outer product with ones), get a {@code slice_by_index}, which the runtime
 * evaluates once at load time. So do values computed from constants alone when they broadcast so (MPNet's
 * relative position bias, gathered from its table at constant bucket indices: entry (q, k) depends on
 * {@code k - q} only, so the first rows and columns are the shorter sequence's bias). A causal mask also keeps padded and future keys at −1e4, so GPT-2
 * is cut like the encoders.
 */
public final class SequencePrefix {

    private final Program program;
    private final int seqLen;
    private final int length;
    private final Map<String, boolean[]> seqAxes = new HashMap<>();
    private final Map<String, Var> vars = new HashMap<>();
    private final Map<String, Operation> producers = new HashMap<>();
    private final Set<String> names = new HashSet<>();
    /** Values computed from constants alone (folded at load time), which a broadcast may cut like constants. */
    private final Set<String> constantOnly = new HashSet<>();
    private final List<Operation> ops = new ArrayList<>();

    private SequencePrefix(Program program, int seqLen, int length) {
        this.program = program;
        this.seqLen = seqLen;
        this.length = length;
    }

    /** The sequence length of {@code program}: axis 1 of its {@code (1, S)} inputs. */
    public static int seqLen(Program program) {
        int s = -1;
        for (Var v : program.inputs()) {
            int[] shape = v.shape();
            if (shape.length != 2 || shape[0] != 1 || (s != -1 && shape[1] != s)) {
                throw new MilException("sequence prefix: input '" + v.name() + "' is " + v.type()
                        + "; every input must be (1, S) with one S");
            }
            s = shape[1];
        }
        if (s < 0) {
            throw new MilException("sequence prefix: the program has no inputs");
        }
        return s;
    }

    /**
     * The program computing the first {@code length} positions (1 ≤ length ≤ S); the program
     * itself when {@code length} is S.
     *
     * @throws MilException when the program has an op whose positions cannot be followed (see the class comment)
     */
    public static Program apply(Program program, int length) {
        int s = seqLen(program);
        if (length < 1 || length > s) {
            throw new MilException("sequence prefix: length " + length + " is outside 1.." + s);
        }
        if (length == s) {
            return program;
        }
        return new SequencePrefix(program, s, length).rewrite();
    }

    /**
     * Which axes of each value of {@code program} (by name: inputs and op outputs) are sequence axes, as
     * {@link #apply} follows them: a value's positions along those axes depend only on the same positions
     * of the inputs, except through masked attention. For {@link io.aneforge.runtime.reference.ReferenceModel}'s
     * real-token predictions, which skip the projections of padded positions.
     *
     * @throws MilException when the program has an op whose positions cannot be followed (as {@link #apply})
     */
    public static Map<String, boolean[]> sequenceAxes(Program program) {
        int s = seqLen(program);
        SequencePrefix follower = new SequencePrefix(program, s, s);
        follower.rewrite();
        Map<String, boolean[]> copy = new HashMap<>();
        follower.seqAxes.forEach((name, axes) -> copy.put(name, axes.clone()));
        return copy;
    }

    private Program rewrite() {
        for (Var v : program.inputs()) {
            names.add(v.name());
        }
        for (Operation op : program.operations()) {
            for (Var v : op.outputs()) {
                names.add(v.name());
            }
            names.add(op.name());
        }
        List<Var> inputs = new ArrayList<>();
        for (Var v : program.inputs()) {
            Var cut = new Var(v.name(), TensorType.of(v.dtype(), 1, length));
            define(cut, new boolean[] {false, true});
            inputs.add(cut);
        }
        for (Operation op : program.operations()) {
            rewrite(op);
        }
        List<Var> outputs = program.outputs().stream().map(v -> vars.get(v.name())).toList();
        return new Program(program.target(), inputs, ops, outputs, program.metadata());
    }

    private void define(Var v, boolean[] axes) {
        vars.put(v.name(), v);
        seqAxes.put(v.name(), axes);
    }

    private boolean[] axesOf(Arg a) {
        return a instanceof Var v ? seqAxes.get(v.name()) : new boolean[a.type().rank()];
    }

    private static boolean any(boolean[] axes) {
        for (boolean b : axes) {
            if (b) {
                return true;
            }
        }
        return false;
    }

    private void rewrite(Operation raw) {
        Operation op = Ops.withDefaults(raw, program.target()); // packages may leave optional parameters out
        Map<String, List<Arg>> in = new LinkedHashMap<>();
        boolean tagged = false;
        for (Map.Entry<String, List<Arg>> e : op.inputs().entrySet()) {
            List<Arg> args = new ArrayList<>();
            for (Arg a : e.getValue()) {
                Arg now = a instanceof Var v ? vars.get(v.name()) : a;
                tagged |= any(axesOf(now));
                args.add(now);
            }
            in.put(e.getKey(), args);
        }
        if (!tagged) { // constants, dequantization and anything computed only from them stay as they are
            ops.add(raw);
            boolean fromConstants = in.values().stream().flatMap(List::stream).allMatch(
                    x -> !(x instanceof Var v) || v.isCompileTimeConstant() || constantOnly.contains(v.name()));
            for (Var v : raw.outputs()) {
                define(v, new boolean[v.rank()]);
                producers.put(v.name(), raw);
                if (fromConstants) {
                    constantOnly.add(v.name());
                }
            }
            return;
        }
        List<boolean[]> outAxes = follow(op, in);
        List<TensorType> types = OpChecker.check(Ops.get(op.type()), op.name(), in, op.attributes(), program.target());
        List<Var> outs = new ArrayList<>();
        for (int i = 0; i < op.outputs().size(); i++) {
            Var old = op.outputs().get(i);
            int[] expected = old.shape().clone();
            for (int d = 0; d < expected.length; d++) {
                if (outAxes.get(i)[d]) {
                    expected[d] = length;
                }
            }
            TensorType t = types.get(i);
            if (!Arrays.equals(t.shape(), expected)) {
                throw refuse(op, "its output '" + old.name() + "' comes out " + t + ", expected " + Arrays.toString(expected));
            }
            outs.add(new Var(old.name(), t, null, old.constexpr()));
        }
        Operation cut = new Operation(op.type(), op.name(), in, op.attributes(), outs);
        ops.add(cut);
        for (int i = 0; i < outs.size(); i++) {
            define(outs.get(i), outAxes.get(i));
            producers.put(outs.get(i).name(), cut);
        }
    }

    /** Sequence axes of the op's outputs; may rewrite {@code in} (shape parameters, sliced constants). */
    private List<boolean[]> follow(Operation op, Map<String, List<Arg>> in) {
        switch (op.type()) {
            case "add", "sub", "mul", "real_div", "pow", "maximum", "minimum", "greater", "less", "equal", "select":
                return List.of(broadcast(op, in));
            case "tanh", "erf", "sqrt", "exp", "relu", "sigmoid", "rsqrt", "gelu", "cast":
                return List.of(axesOf(first(in, "x")));
            case "linear": {
                boolean[] x = axesOf(first(in, "x"));
                if (x[x.length - 1]) {
                    throw refuse(op, "it projects along the sequence axis");
                }
                return List.of(x);
            }
            case "conv":
                return List.of(conv(op, in));
            case "layer_norm": {
                boolean[] x = axesOf(first(in, "x"));
                int[] axes = in.containsKey("axes") ? ints(in, "axes") : all(x.length);
                for (int a : axes) {
                    if (x[norm(a, x.length)]) {
                        throw refuse(op, "it normalizes over the sequence axis");
                    }
                }
                return List.of(x);
            }
            case "softmax": {
                boolean[] x = axesOf(first(in, "x"));
                int axis = norm(in.containsKey("axis") ? ints(in, "axis")[0] : -1, x.length);
                if (x[axis] && !producedBy(first(in, "x"), "add")) {
                    throw refuse(op, "it normalizes over the sequence axis without an additive mask feeding it");
                }
                return List.of(x);
            }
            case "matmul":
                return List.of(matmul(op, in));
            case "band_part": // keeps (i, j) by i − j alone: the prefix of the band is the band of the prefix
                return List.of(axesOf(first(in, "x")));
            case "einsum":
                return List.of(einsum(op, in));
            case "reshape":
                return List.of(reshape(op, in));
            case "transpose": {
                boolean[] x = axesOf(first(in, "x"));
                int[] perm = ints(in, "perm");
                boolean[] out = new boolean[perm.length];
                for (int i = 0; i < perm.length; i++) {
                    out[i] = x[norm(perm[i], x.length)];
                }
                return List.of(out);
            }
            case "expand_dims": {
                boolean[] x = axesOf(first(in, "x"));
                int rank = x.length + ints(in, "axes").length;
                boolean[] inserted = new boolean[rank];
                for (int a : ints(in, "axes")) {
                    inserted[norm(a, rank)] = true;
                }
                boolean[] out = new boolean[rank];
                for (int i = 0, j = 0; i < rank; i++) {
                    out[i] = !inserted[i] && x[j++];
                }
                return List.of(out);
            }
            case "squeeze": {
                Var x = (Var) first(in, "x");
                boolean[] ax = axesOf(x);
                Set<Integer> dropped = new HashSet<>();
                if (in.containsKey("axes")) {
                    for (int a : ints(in, "axes")) {
                        dropped.add(norm(a, ax.length));
                    }
                } else {
                    for (int d = 0; d < ax.length; d++) {
                        if (x.shape()[d] == 1) {
                            dropped.add(d);
                        }
                    }
                }
                boolean[] out = new boolean[ax.length - dropped.size()];
                for (int d = 0, j = 0; d < ax.length; d++) {
                    if (!dropped.contains(d)) {
                        out[j++] = ax[d];
                    }
                }
                return List.of(out);
            }
            case "gather": {
                if (any(axesOf(first(in, "x")))) {
                    throw refuse(op, "it gathers from a sequence-long tensor");
                }
                int[] bd = in.containsKey("batch_dims") ? ints(in, "batch_dims") : new int[] {0};
                if (bd[0] != 0) {
                    throw refuse(op, "batch_dims is " + bd[0]);
                }
                boolean[] x = axesOf(first(in, "x"));
                boolean[] idx = axesOf(first(in, "indices"));
                int axis = norm(in.containsKey("axis") ? ints(in, "axis")[0] : 0, x.length);
                boolean[] out = new boolean[x.length - 1 + idx.length];
                System.arraycopy(idx, 0, out, axis, idx.length);
                return List.of(out);
            }
            case "split": {
                boolean[] x = axesOf(first(in, "x"));
                if (x[norm(ints(in, "axis")[0], x.length)]) {
                    throw refuse(op, "it splits the sequence axis");
                }
                return op.outputs().stream().map(v -> x.clone()).toList();
            }
            case "concat": {
                int rank = first(in, "values").type().rank();
                boolean[] out = new boolean[rank];
                for (Arg a : in.get("values")) {
                    boolean[] ax = axesOf(a);
                    for (int d = 0; d < rank; d++) {
                        out[d] |= ax[d];
                    }
                }
                for (Arg a : in.get("values")) {
                    if (!Arrays.equals(axesOf(a), out)) {
                        throw refuse(op, "it concatenates values with different sequence axes");
                    }
                }
                if (out[norm(ints(in, "axis")[0], rank)]) {
                    throw refuse(op, "it concatenates along the sequence axis");
                }
                return List.of(out);
            }
            case "slice_by_index":
                return List.of(slice(op, in));
            case "quantize", "dequantize": {
                // per tensor, or per channel along an axis that is not the sequence: position-wise
                boolean[] axes = axesOf(first(in, "input"));
                if (in.containsKey("axis") && axes[norm(ints(in, "axis")[0], axes.length)]) {
                    throw refuse(op, "its scales run along the sequence axis");
                }
                return List.of(axes);
            }
            default:
                throw refuse(op, "the prefix does not know how " + op.type() + " mixes positions");
        }
    }

    /** NumPy broadcasting: an operand without the sequence axis where the result has it is sliced if it is S long there. */
    private boolean[] broadcast(Operation op, Map<String, List<Arg>> in) {
        int rank = 0;
        for (List<Arg> args : in.values()) {
            for (Arg a : args) {
                rank = Math.max(rank, a.type().rank());
            }
        }
        boolean[] out = new boolean[rank];
        for (List<Arg> args : in.values()) {
            for (Arg a : args) {
                boolean[] ax = axesOf(a);
                for (int d = 0; d < ax.length; d++) {
                    out[rank - ax.length + d] |= ax[d];
                }
            }
        }
        for (Map.Entry<String, List<Arg>> e : in.entrySet()) {
            List<Arg> args = e.getValue();
            for (int i = 0; i < args.size(); i++) {
                Arg a = args.get(i);
                boolean[] ax = axesOf(a);
                int[] shape = a.type().shape();
                List<Integer> toCut = new ArrayList<>();
                for (int d = 0; d < ax.length; d++) {
                    if (out[rank - ax.length + d] && !ax[d] && shape[d] != 1) {
                        if (shape[d] != seqLen) {
                            throw refuse(op, "'" + e.getKey() + "' has " + shape[d] + " where the result has the sequence");
                        }
                        toCut.add(d);
                    }
                }
                if (!toCut.isEmpty()) {
                    if (!(a instanceof Var v) || !v.isCompileTimeConstant() && !constantOnly.contains(v.name())) {
                        throw refuse(op, "'" + e.getKey() + "' is computed per prediction and spans the sequence without following it");
                    }
                    args.set(i, cutConstant(v, toCut));
                }
            }
        }
        return out;
    }

    /**
     * A load-time {@code slice_by_index} keeping the first {@code length} entries of {@code axes} of {@code v}, a
     * constant or a value computed from constants alone. The slice is such a value too ({@link #constantOnly}), not a
     * compile-time constant: only {@code const} and {@code constexpr_*} outputs are, as a package read back says, so a
     * parameter that must be constant does not take it here either.
     */
    private Var cutConstant(Var v, List<Integer> axes) {
        int[] begin = new int[v.rank()];
        int[] end = v.shape().clone();
        for (int a : axes) {
            end[a] = length;
        }
        String name = unique(v.name() + "_prefix" + length);
        Map<String, List<Arg>> in = new LinkedHashMap<>();
        in.put("x", List.of(v));
        in.put("begin", List.of(Constant.int32s(begin)));
        in.put("end", List.of(Constant.int32s(end)));
        in.put("stride", List.of(Constant.int32s(filled(v.rank(), 1))));
        in.put("begin_mask", List.of(Constant.bools(new boolean[v.rank()])));
        in.put("end_mask", List.of(Constant.bools(new boolean[v.rank()])));
        in.put("squeeze_mask", List.of(Constant.bools(new boolean[v.rank()])));
        TensorType t = OpChecker.check(Ops.get("slice_by_index"), name, in, Map.of(), program.target()).get(0);
        Var out = new Var(name, t);
        Operation slice = new Operation("slice_by_index", name, in, Map.of(), List.of(out));
        ops.add(slice);
        define(out, new boolean[t.rank()]);
        producers.put(name, slice);
        constantOnly.add(name);
        return out;
    }

    private String unique(String base) {
        String n = base;
        for (int i = 1; names.contains(n); i++) {
            n = base + "_" + i;
        }
        names.add(n);
        return n;
    }

    /** A 1×1 convolution (stride 1, no padding) is per position; anything wider would read neighbours. */
    private boolean[] conv(Operation op, Map<String, List<Arg>> in) {
        boolean[] x = axesOf(first(in, "x"));
        if (x[0] || x[1]) {
            throw refuse(op, "the sequence is on its batch or channel axis");
        }
        int[] w = first(in, "weight").type().shape();
        for (int d = 2; d < w.length; d++) {
            if (w[d] != 1) {
                throw refuse(op, "its kernel is " + Arrays.toString(w) + ", not 1×1");
            }
        }
        for (String p : List.of("strides", "dilations")) {
            if (in.containsKey(p) && Arrays.stream(ints(in, p)).anyMatch(v -> v != 1)) {
                throw refuse(op, p + " is " + Arrays.toString(ints(in, p)));
            }
        }
        if (in.containsKey("pad") && Arrays.stream(ints(in, "pad")).anyMatch(v -> v != 0)) {
            throw refuse(op, "it pads " + Arrays.toString(ints(in, "pad")));
        }
        return x;
    }

    private boolean[] matmul(Operation op, Map<String, List<Arg>> in) {
        Arg xa = first(in, "x");
        Arg ya = first(in, "y");
        boolean[] x = axesOf(xa);
        boolean[] y = axesOf(ya);
        boolean tx = in.containsKey("transpose_x") && bool(in, "transpose_x");
        boolean ty = in.containsKey("transpose_y") && bool(in, "transpose_y");
        int rx = x.length;
        int ry = y.length;
        int xRows = tx ? rx - 1 : rx - 2;
        int xInner = tx ? rx - 2 : rx - 1;
        int yInner = ty ? ry - 1 : ry - 2;
        int yCols = ty ? ry - 2 : ry - 1;
        for (int d = 0; d < rx - 2; d++) {
            if (x[d]) {
                throw refuse(op, "the sequence is a batch axis of x");
            }
        }
        for (int d = 0; d < ry - 2; d++) {
            if (y[d]) {
                throw refuse(op, "the sequence is a batch axis of y");
            }
        }
        if (x[xInner] != y[yInner]) {
            throw refuse(op, "only one side of its contraction follows the sequence");
        }
        if (x[xInner] && !softmaxOver(xa, xInner) && !softmaxOver(ya, yInner)) {
            throw refuse(op, "it contracts over the sequence, but not over softmax weights");
        }
        boolean[] out = new boolean[Math.max(rx, ry)];
        out[out.length - 2] = x[xRows];
        out[out.length - 1] = y[yCols];
        // An outer product (inner size 1) of the sequence with an S-long constant (the ones a causal mask is
        // spread with) spans the sequence on both sides: the constant's first L entries give the first L rows
        // or columns. Only for an outer product: a constant S-wide projection would be channels that happen to be S.
        if (xa.type().shape()[xInner] == 1 && x[xRows] != y[yCols]) {
            Arg constant = x[xRows] ? ya : xa;
            int axis = x[xRows] ? yCols : xRows;
            // a constant, or computed from constants alone (the ones of a program this class already cut)
            if (constant.type().shape()[axis] == seqLen && constant instanceof Var v
                    && (v.isCompileTimeConstant() || constantOnly.contains(v.name()))) {
                Var cut = cutConstant(v, List.of(axis));
                in.put(x[xRows] ? "y" : "x", List.of(cut));
                out[out.length - 2] = true;
                out[out.length - 1] = true;
            }
        }
        return out;
    }

    private boolean[] einsum(Operation op, Map<String, List<Arg>> in) {
        String eq = ((Constant) first(in, "equation")).stringValue().replace(" ", "");
        String[] sides = eq.split("->");
        String[] terms = sides[0].split(",");
        List<Arg> values = in.get("values");
        if (sides.length != 2 || terms.length != values.size()) {
            throw refuse(op, "equation '" + eq + "' is not of the form a,b->c");
        }
        Map<Character, Boolean> letters = new HashMap<>();
        for (int i = 0; i < terms.length; i++) {
            boolean[] ax = axesOf(values.get(i));
            if (terms[i].length() != ax.length) {
                throw refuse(op, "term '" + terms[i] + "' does not match rank " + ax.length);
            }
            for (int d = 0; d < ax.length; d++) {
                Boolean seen = letters.put(terms[i].charAt(d), ax[d]);
                if (seen != null && seen != ax[d]) {
                    throw refuse(op, "index '" + terms[i].charAt(d) + "' follows the sequence in one operand only");
                }
            }
        }
        for (Map.Entry<Character, Boolean> l : letters.entrySet()) {
            if (l.getValue() && sides[1].indexOf(l.getKey()) < 0) {
                boolean weights = false;
                for (int i = 0; i < terms.length; i++) {
                    int d = terms[i].indexOf(l.getKey());
                    weights |= d >= 0 && softmaxOver(values.get(i), d);
                }
                if (!weights) {
                    throw refuse(op, "it contracts over the sequence, but not over softmax weights");
                }
            }
        }
        boolean[] out = new boolean[sides[1].length()];
        for (int d = 0; d < out.length; d++) {
            out[d] = letters.getOrDefault(sides[1].charAt(d), false);
        }
        return out;
    }

    /**
     * A sequence axis survives a reshape when some output axis spans exactly the same elements
     * (equal products of the dims before it, and size S); then the new shape has the prefix length there.
     */
    private boolean[] reshape(Operation op, Map<String, List<Arg>> in) {
        Var x = (Var) first(in, "x");
        boolean[] ax = axesOf(x);
        int[] from = op.inputs().get("x").get(0).type().shape(); // the uncut input shape
        int[] to = op.output().shape();
        boolean[] out = new boolean[to.length];
        for (int i = 0; i < ax.length; i++) {
            if (!ax[i]) {
                continue;
            }
            long before = product(from, i);
            int match = -1;
            for (int j = 0; j < to.length; j++) {
                if (to[j] == seqLen && product(to, j) == before) {
                    match = j;
                }
            }
            if (match < 0) {
                throw refuse(op, "it merges or splits the sequence axis (" + Arrays.toString(from) + " -> "
                        + Arrays.toString(to) + ")");
            }
            out[match] = true;
        }
        int[] shape = to.clone();
        for (int j = 0; j < shape.length; j++) {
            if (out[j]) {
                shape[j] = length;
            }
        }
        in.put("shape", List.of(Constant.int32s(shape)));
        return out;
    }

    /** Whole-axis slices get the prefix length; slices inside the prefix leave a short, non-sequence axis. */
    private boolean[] slice(Operation op, Map<String, List<Arg>> in) {
        boolean[] ax = axesOf(first(in, "x"));
        int rank = ax.length;
        int[] begin = ints(in, "begin").clone();
        int[] end = ints(in, "end").clone();
        int[] stride = in.containsKey("stride") ? ints(in, "stride") : filled(rank, 1);
        boolean[] beginMask = in.containsKey("begin_mask") ? bools(in, "begin_mask") : new boolean[rank];
        boolean[] endMask = in.containsKey("end_mask") ? bools(in, "end_mask") : new boolean[rank];
        boolean[] squeeze = in.containsKey("squeeze_mask") ? bools(in, "squeeze_mask") : new boolean[rank];
        List<Boolean> out = new ArrayList<>();
        for (int d = 0; d < rank; d++) {
            boolean keep = ax[d];
            if (ax[d]) {
                if (stride[d] != 1) {
                    throw refuse(op, "it slices the sequence with stride " + stride[d]);
                }
                int b = beginMask[d] ? 0 : begin[d] < 0 ? begin[d] + seqLen : begin[d];
                int e = squeeze[d] ? b + 1 : endMask[d] ? seqLen : end[d] < 0 ? end[d] + seqLen : end[d];
                if (b == 0 && e == seqLen) {
                    begin[d] = 0;
                    end[d] = length;
                } else if (b >= 0 && e <= length) {
                    begin[d] = b;
                    end[d] = e;
                    keep = false;
                } else {
                    throw refuse(op, "it reads positions " + b + ".." + e + " of the sequence, beyond the prefix of " + length);
                }
                beginMask[d] = false;
                endMask[d] = false;
            }
            if (!squeeze[d]) {
                out.add(keep);
            }
        }
        in.put("begin", List.of(Constant.int32s(begin)));
        in.put("end", List.of(Constant.int32s(end)));
        if (in.containsKey("begin_mask")) {
            in.put("begin_mask", List.of(Constant.bools(beginMask)));
        }
        if (in.containsKey("end_mask")) {
            in.put("end_mask", List.of(Constant.bools(endMask)));
        }
        boolean[] r = new boolean[out.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = out.get(i);
        }
        return r;
    }

    private boolean producedBy(Arg a, String type) {
        Operation p = a instanceof Var v ? producers.get(v.name()) : null;
        return p != null && p.type().equals(type);
    }

    /** {@code a} is a softmax output normalized over its axis {@code axis}. */
    private boolean softmaxOver(Arg a, int axis) {
        Operation p = a instanceof Var v ? producers.get(v.name()) : null;
        if (p == null || !p.type().equals("softmax")) {
            return false;
        }
        List<Arg> ax = p.inputs().get("axis");
        int rank = a.type().rank();
        return norm(ax == null ? -1 : OpContext.constantOf(ax.get(0)).intValue(), rank) == axis;
    }

    private MilException refuse(Operation op, String why) {
        return new MilException("sequence prefix: op '" + op.name() + "' (" + op.type() + "): " + why
                + "; run the whole program instead");
    }

    private static Arg first(Map<String, List<Arg>> in, String param) {
        List<Arg> a = in.get(param);
        if (a == null || a.isEmpty()) {
            throw new MilException("sequence prefix: parameter '" + param + "' is not bound");
        }
        return a.get(0);
    }

    private static int[] ints(Map<String, List<Arg>> in, String param) {
        return OpContext.constantOf(first(in, param)).toInts();
    }

    private static boolean[] bools(Map<String, List<Arg>> in, String param) {
        return OpContext.constantOf(first(in, param)).toBools();
    }

    private static boolean bool(Map<String, List<Arg>> in, String param) {
        return OpContext.constantOf(first(in, param)).boolValue();
    }

    private static int norm(int axis, int rank) {
        return axis < 0 ? axis + rank : axis;
    }

    private static int[] all(int rank) {
        int[] a = new int[rank];
        for (int i = 0; i < rank; i++) {
            a[i] = i;
        }
        return a;
    }

    private static int[] filled(int n, int v) {
        int[] a = new int[n];
        Arrays.fill(a, v);
        return a;
    }

    private static long product(int[] shape, int end) {
        long p = 1;
        for (int i = 0; i < end; i++) {
            p *= shape[i];
        }
        return p;
    }
}
