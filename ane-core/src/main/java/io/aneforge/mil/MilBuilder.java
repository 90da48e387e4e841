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
 * Builds a {@link Program} op by op, type-checking each op as it is added so a shape
 * error points at the call that built it (message: op name, op type, argument, rule).
 *
 * <p>Arguments may be {@link Var}s of this builder, {@link Constant}s, or Java literals
 * ({@code Integer}, {@code int[]}, {@code Float}/{@code Double}, {@code float[]},
 * {@code Boolean}, {@code boolean[]}, {@code String}); float literals take the dtype of
 * the parameter they must match (e.g. {@code epsilon} takes the dtype of {@code x}).
 * Every optional parameter left out is bound to its default, because Core ML requires
 * all parameters. Small constants (&lt; {@value #IMMEDIATE_LIMIT} elements) are bound as
 * immediate values; larger ones become {@code const} ops bound by name (a blob bound
 * directly to an ordinary op's input is rejected by Core ML).
 *
 * <p>Names are deterministic: auto names are {@code <type>_<n>} with one counter per op
 * type per builder instance. Not thread-safe.
 */
public final class MilBuilder {
    /** Constants with this many elements or more go to a const op (and to the weight blob). */
    public static final int IMMEDIATE_LIMIT = 10;

    private final Target target;
    private final List<Var> inputs = new ArrayList<>();
    private final List<Operation> operations = new ArrayList<>();
    private final Map<String, Var> vars = new HashMap<>();
    private final Set<String> opNames = new HashSet<>();
    private final Map<String, Integer> counters = new HashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private String pendingName;

    public MilBuilder(Target target) {
        if (target == null) {
            throw new IllegalArgumentException("target is required");
        }
        this.target = target;
    }

    public Target target() {
        return target;
    }

    public Var input(String name, DType dtype, int... shape) {
        Var v = new Var(name, new TensorType(dtype, shape));
        claimVar(v);
        inputs.add(v);
        return v;
    }

    /** Adds a {@code const} op whose output var and op name are both {@code name}. */
    public Var constant(String name, Constant value) {
        claimOpName(name);
        Var v = new Var(name, value.type(), value);
        claimVar(v);
        operations.add(new Operation("const", name, Map.of(), Map.of("val", value), List.of(v)));
        return v;
    }

    /** Adds a {@code const} op with an auto name {@code const_<n>}, or the name set by {@link #named}. */
    public Var constant(Constant value) {
        String n = pendingName != null ? pendingName : nextName("const");
        pendingName = null;
        return constant(n, value);
    }

    /** Sets the name of the next op added (one-shot). */
    public MilBuilder named(String name) {
        this.pendingName = Names.requireIdentifier(name);
        return this;
    }

    public void metadata(String key, String value) {
        metadata.put(key, value);
    }

    /** Starts an op of the given type. */
    public OpCall op(String type) {
        return new OpCall(Ops.get(type));
    }

    /** Fluent binding of one op's arguments; {@link #build()} type-checks and adds it. */
    public final class OpCall {
        private final OpDef def;
        private final Map<String, Object> args = new LinkedHashMap<>();
        private final Map<String, Constant> attributes = new LinkedHashMap<>();
        private String name;
        private List<String> outputNames;

        private OpCall(OpDef def) {
            this.def = def;
        }

        public OpCall arg(String param, Object value) {
            if (value == null) {
                throw new MilException("op " + def.type() + ", argument '" + param + "': null value");
            }
            args.put(param, value);
            return this;
        }

        public OpCall attr(String attribute, Constant value) {
            attributes.put(attribute, value);
            return this;
        }

        public OpCall name(String opName) {
            this.name = Names.requireIdentifier(opName);
            return this;
        }

        /** Output var names (default: the op name, or {@code <name>_<i>} for several outputs). */
        public OpCall outputNames(String... names) {
            this.outputNames = List.of(names);
            return this;
        }

        public Var build() {
            List<Var> out = buildAll();
            if (out.size() != 1) {
                throw new MilException("op " + def.type() + " has " + out.size() + " outputs; use buildAll()");
            }
            return out.get(0);
        }

        public List<Var> buildAll() {
            String opName = name != null ? name : pendingName != null ? pendingName : nextName(def.type());
            pendingName = null;
            if (opNames.contains(opName)) {
                throw new MilException("op name '" + opName + "' is already used in this program; names must be unique");
            }
            Map<String, List<Arg>> bound = new LinkedHashMap<>();
            List<Operation> newConsts = new ArrayList<>();
            for (Map.Entry<String, Object> e : args.entrySet()) {
                Param p = def.param(e.getKey());
                if (p == null || def.isAttribute(e.getKey())) {
                    throw new OpContext(def, opName, bound, attributes).fail(e.getKey(), "unknown parameter; " + def.type()
                            + " accepts " + def.inputs().stream().map(Param::name).toList());
                }
            }
            // bind in parameter order so the written op lists inputs like its definition
            for (Param p : def.inputs()) {
                Object v = args.get(p.name());
                if (v == null) {
                    continue;
                }
                List<Arg> list = new ArrayList<>();
                if (v instanceof List<?> l) {
                    for (Object o : l) {
                        list.add(toArg(opName, p, o, bound, newConsts));
                    }
                } else if (v instanceof Var[] arr) {
                    for (Var o : arr) {
                        list.add(toArg(opName, p, o, bound, newConsts));
                    }
                } else {
                    list.add(toArg(opName, p, v, bound, newConsts));
                }
                bound.put(p.name(), list);
            }
            // defaults, computed from what is bound so far
            Map<String, List<Arg>> ordered = new LinkedHashMap<>();
            for (Param p : def.inputs()) {
                if (bound.containsKey(p.name())) {
                    ordered.put(p.name(), bound.get(p.name()));
                } else if (p.optional() && p.defaultValue() != null && target.atLeast(p.since())) {
                    Constant d = p.defaultValue().compute(new OpContext(def, opName, bound, attributes));
                    Arg a = toArg(opName, p, d, bound, newConsts);
                    bound.put(p.name(), List.of(a));
                    ordered.put(p.name(), List.of(a));
                }
            }
            List<TensorType> types = OpChecker.check(def, opName, ordered, attributes, target);
            List<String> names = outputNames;
            if (names == null) {
                names = new ArrayList<>();
                for (int i = 0; i < types.size(); i++) {
                    names.add(types.size() == 1 ? opName : opName + "_" + i);
                }
            } else if (names.size() != types.size()) {
                throw new MilException("op '" + opName + "' (" + def.type() + ") has " + types.size() + " outputs but "
                        + names.size() + " output names were given");
            }
            List<Var> outs = new ArrayList<>();
            for (int i = 0; i < types.size(); i++) {
                Constant cv = def.type().equals("const") ? attributes.get("val") : null;
                outs.add(new Var(names.get(i), types.get(i), cv, def.type().startsWith("constexpr_")));
            }
            for (Operation c : newConsts) {
                claimOpName(c.name());
                claimVar(c.output());
                operations.add(c);
            }
            claimOpName(opName);
            outs.forEach(MilBuilder.this::claimVar);
            operations.add(new Operation(def.type(), opName, ordered, attributes, outs));
            return outs;
        }

        private Arg toArg(String opName, Param p, Object v, Map<String, List<Arg>> bound, List<Operation> newConsts) {
            if (v instanceof Var var) {
                if (vars.get(var.name()) != var && !var.equals(vars.get(var.name()))) {
                    throw new OpContext(def, opName, bound, attributes).fail(p.name(), "var '" + var.name() + "' does not belong to this builder");
                }
                return var;
            }
            Constant c = literal(p, v, bound);
            if (c.elementCount() < IMMEDIATE_LIMIT || c.dtype() == DType.STRING || def.type().startsWith("constexpr_")) {
                return c; // constexpr ops take their (possibly large) data directly as values
            }
            String base = opName + "_" + p.name();
            String n = base;
            for (int i = 1; opNames.contains(n) || vars.containsKey(n) || containsName(newConsts, n); i++) {
                n = base + "_" + i;
            }
            Var out = new Var(n, c.type(), c);
            newConsts.add(new Operation("const", n, Map.of(), Map.of("val", c), List.of(out)));
            return out;
        }

        private Constant literal(Param p, Object v, Map<String, List<Arg>> bound) {
            if (v instanceof Constant c) {
                return c;
            }
            if (v instanceof Integer i) {
                return Constant.int32Scalar(i);
            }
            if (v instanceof int[] a) {
                return Constant.int32s(a);
            }
            if (v instanceof Boolean b) {
                return Constant.bool(b);
            }
            if (v instanceof boolean[] a) {
                return Constant.bools(a);
            }
            if (v instanceof String s) {
                return Constant.string(s);
            }
            if (v instanceof Number n) {
                return Constant.floatScalar(floatType(p, bound), n.floatValue());
            }
            if (v instanceof float[] a) {
                return Constant.floats(floatType(p, bound), a, a.length);
            }
            if (v instanceof DType d) {
                return Constant.string(d.milName());
            }
            throw new MilException("op " + def.type() + ", argument '" + p.name() + "': cannot bind a " + v.getClass().getSimpleName());
        }

        private DType floatType(Param p, Map<String, List<Arg>> bound) {
            if (p.sameDTypeAs() != null && bound.containsKey(p.sameDTypeAs())) {
                return bound.get(p.sameDTypeAs()).get(0).type().dtype();
            }
            return DType.FP32;
        }
    }

    private static boolean containsName(List<Operation> ops, String n) {
        return ops.stream().anyMatch(o -> o.name().equals(n));
    }

    private String nextName(String type) {
        while (true) {
            int n = counters.merge(type, 1, Integer::sum) - 1;
            String candidate = type + "_" + n;
            if (!opNames.contains(candidate) && !vars.containsKey(candidate)) {
                return candidate;
            }
        }
    }

    private void claimOpName(String n) {
        if (!opNames.add(n)) {
            throw new MilException("op name '" + n + "' is already used in this program; names must be unique");
        }
    }

    private void claimVar(Var v) {
        if (vars.putIfAbsent(v.name(), v) != null) {
            throw new MilException("var name '" + v.name() + "' is already used in this program; names must be unique");
        }
    }

    /** Finishes the program with the given outputs (in order). */
    public Program build(Var... outputs) {
        for (Var o : outputs) {
            if (vars.get(o.name()) == null) {
                throw new MilException("output '" + o.name() + "' is not a var of this program");
            }
        }
        return new Program(target, inputs, operations, Arrays.asList(outputs), metadata);
    }

    // ---- typed helpers for the graph builders; each is op(type).arg(...).build() ----

    public Var add(Var x, Object y) {
        return op("add").arg("x", x).arg("y", y).build();
    }

    public Var sub(Var x, Object y) {
        return op("sub").arg("x", x).arg("y", y).build();
    }

    public Var mul(Var x, Object y) {
        return op("mul").arg("x", x).arg("y", y).build();
    }

    public Var realDiv(Var x, Object y) {
        return op("real_div").arg("x", x).arg("y", y).build();
    }

    public Var pow(Var x, Object y) {
        return op("pow").arg("x", x).arg("y", y).build();
    }

    public Var select(Var cond, Var a, Object b) {
        return op("select").arg("cond", cond).arg("a", a).arg("b", b).build();
    }

    public Var cast(Var x, DType to) {
        return op("cast").arg("x", x).arg("dtype", to.milName()).build();
    }

    public Var matmul(Var x, Var y, boolean transposeX, boolean transposeY) {
        return op("matmul").arg("x", x).arg("y", y).arg("transpose_x", transposeX).arg("transpose_y", transposeY).build();
    }

    /** {@code x[..., in] -> [..., out]}; weight {@code [out, in]}; bias may be null (zeros). */
    public Var linear(Var x, Object weight, Object bias) {
        OpCall c = op("linear").arg("x", x).arg("weight", weight);
        return (bias == null ? c : c.arg("bias", bias)).build();
    }

    /** Convolution with all defaults (stride 1, valid, no dilation, one group): a 1x1 conv with a {@code [out, in, 1, 1]} weight is a linear layer in (B, C, 1, S) layout. */
    public Var conv(Var x, Object weight, Object bias) {
        OpCall c = op("conv").arg("x", x).arg("weight", weight);
        return (bias == null ? c : c.arg("bias", bias)).build();
    }

    public Var einsum(String equation, Var a, Var b) {
        return op("einsum").arg("values", List.of(a, b)).arg("equation", equation).build();
    }

    public Var softmax(Var x, int axis) {
        return op("softmax").arg("x", x).arg("axis", axis).build();
    }

    /** gamma/beta may be null (ones/zeros); epsilon is stored in the dtype of x. */
    public Var layerNorm(Var x, int[] axes, Object gamma, Object beta, float epsilon) {
        OpCall c = op("layer_norm").arg("x", x).arg("axes", axes).arg("epsilon", epsilon);
        if (gamma != null) {
            c.arg("gamma", gamma);
        }
        if (beta != null) {
            c.arg("beta", beta);
        }
        return c.build();
    }

    public Var gelu(Var x, String mode) {
        return op("gelu").arg("x", x).arg("mode", mode).build();
    }

    public Var tanh(Var x) {
        return op("tanh").arg("x", x).build();
    }

    public Var erf(Var x) {
        return op("erf").arg("x", x).build();
    }

    public Var sqrt(Var x) {
        return op("sqrt").arg("x", x).build();
    }

    public Var rsqrt(Var x) {
        return op("rsqrt").arg("x", x).build();
    }

    public Var reshape(Var x, int... shape) {
        return op("reshape").arg("x", x).arg("shape", shape).build();
    }

    public Var transpose(Var x, int... perm) {
        return op("transpose").arg("x", x).arg("perm", perm).build();
    }

    public List<Var> split(Var x, int axis, int numSplits) {
        return op("split").arg("x", x).arg("num_splits", numSplits).arg("axis", axis).buildAll();
    }

    public List<Var> splitSizes(Var x, int axis, int... sizes) {
        return op("split").arg("x", x).arg("split_sizes", sizes).arg("axis", axis).buildAll();
    }

    public Var concat(int axis, List<Var> values) {
        return op("concat").arg("values", values).arg("axis", axis).build();
    }

    public Var gather(Var x, Var indices, int axis) {
        return op("gather").arg("x", x).arg("indices", indices).arg("axis", axis).build();
    }

    public Var expandDims(Var x, int... axes) {
        return op("expand_dims").arg("x", x).arg("axes", axes).build();
    }

    public Var squeeze(Var x, int... axes) {
        return op("squeeze").arg("x", x).arg("axes", axes).build();
    }

    public Var sliceByIndex(Var x, int[] begin, int[] end) {
        return op("slice_by_index").arg("x", x).arg("begin", begin).arg("end", end).build();
    }

    public Var reduceMean(Var x, int[] axes, boolean keepDims) {
        return op("reduce_mean").arg("x", x).arg("axes", axes).arg("keep_dims", keepDims).build();
    }

    public Var bandPart(Var x, int lower, int upper) {
        return op("band_part").arg("x", x).arg("lower", lower).arg("upper", upper).build();
    }

    /** {@code out = scale * (q - zeroPoint)} per channel along {@code axis} (iOS 16). */
    public Var affineDequantize(Constant quantized, Constant zeroPoint, Constant scale, int axis) {
        return op("constexpr_affine_dequantize").attr("quantized_data", quantized).attr("zero_point", zeroPoint)
                .attr("scale", scale).attr("axis", Constant.int32Scalar(axis)).build();
    }

    /** {@code out = scale[blk] * (data - offset[blk])} (iOS 18); offset may be null. */
    public Var blockwiseShiftScale(Constant data, Constant scale, Constant offset) {
        OpCall c = op("constexpr_blockwise_shift_scale").arg("data", data).arg("scale", scale);
        return (offset == null ? c : c.arg("offset", offset)).build();
    }

    /**
     * {@code quantize} (iOS 17): {@code clip(round(x / scale) + zeroPoint)} as {@code out} (int8 or uint8); a scalar
     * scale (per tensor) when {@code axis} is null, else one per index along it. {@code zeroPoint} may be null (0).
     */
    public Var quantize(Var x, Constant scale, Constant zeroPoint, Integer axis, DType out) {
        OpCall c = op("quantize").arg("input", x);
        if (zeroPoint != null) {
            c.arg("zero_point", zeroPoint);
        }
        c.arg("scale", scale);
        if (axis != null) {
            c.arg("axis", Constant.int32Scalar(axis));
        }
        return c.arg("output_dtype", Constant.string(out.milName())).build();
    }

    /** {@code dequantize} (iOS 17): {@code scale * (q - zeroPoint)} in the scale's float type; as {@link #quantize}. */
    public Var dequantize(Var q, Constant scale, Constant zeroPoint, Integer axis) {
        OpCall c = op("dequantize").arg("input", q);
        if (zeroPoint != null) {
            c.arg("zero_point", zeroPoint);
        }
        c.arg("scale", scale);
        if (axis != null) {
            c.arg("axis", Constant.int32Scalar(axis));
        }
        return c.build();
    }
}
