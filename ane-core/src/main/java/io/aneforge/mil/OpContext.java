package io.aneforge.mil;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The arguments of one op as seen by type inference and defaults: types of every
 * binding, values of constant ones, and {@link #fail} to report a broken rule naming
 * the op and the argument.
 */
public class OpContext {
    private final OpDef def;
    private final String opName;
    private final Map<String, List<Arg>> inputs;
    private final Map<String, Constant> attributes;

    public OpContext(OpDef def, String opName, Map<String, List<Arg>> inputs, Map<String, Constant> attributes) {
        this.def = def;
        this.opName = opName;
        this.inputs = inputs;
        this.attributes = attributes;
    }

    public OpDef def() {
        return def;
    }

    public String opName() {
        return opName;
    }

    public boolean has(String param) {
        return inputs.containsKey(param) || attributes.containsKey(param);
    }

    public List<Arg> args(String param) {
        List<Arg> a = inputs.get(param);
        if (a == null) {
            throw fail(param, "is required but not bound");
        }
        return a;
    }

    public TensorType type(String param) {
        if (attributes.containsKey(param)) {
            return attributes.get(param).type();
        }
        return args(param).get(0).type();
    }

    public int rank(String param) {
        return type(param).rank();
    }

    public int[] shape(String param) {
        return type(param).shape();
    }

    /** The constant value bound to {@code param} (an immediate, a const op's output, or an attribute). */
    public Constant constant(String param) {
        if (attributes.containsKey(param)) {
            return attributes.get(param);
        }
        Arg a = args(param).get(0);
        Constant c = constantOf(a);
        if (c == null) {
            throw fail(param, "must be a compile-time constant (bind a const op or an immediate value), got var '"
                    + ((Var) a).name() + "'");
        }
        return c;
    }

    static Constant constantOf(Arg a) {
        if (a instanceof Constant c) {
            return c;
        }
        return ((Var) a).constValue();
    }

    public int[] ints(String param) {
        return constant(param).toInts();
    }

    public int intValue(String param) {
        Constant c = constant(param);
        if (c.elementCount() != 1) {
            throw fail(param, "must be a single int, got " + c.type());
        }
        return c.intValue();
    }

    public boolean boolValue(String param) {
        return constant(param).boolValue();
    }

    public boolean[] bools(String param) {
        return constant(param).toBools();
    }

    public float floatValue(String param) {
        return constant(param).floatValue();
    }

    public String string(String param) {
        return constant(param).stringValue();
    }

    /** Normalizes an axis against a rank, failing with the argument's name when out of range. */
    public int axis(String param, int axis, int rank) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw fail(param, "axis " + axis + " is out of range for rank " + rank + " (valid: " + (-rank) + ".." + (rank - 1) + ")");
        }
        return a;
    }

    public MilException fail(String param, String rule) {
        return new MilException("op '" + opName + "' (" + def.type() + "), argument '" + param + "': " + rule);
    }

    public MilException fail(String rule) {
        return new MilException("op '" + opName + "' (" + def.type() + "): " + rule);
    }

    public static String str(int[] shape) {
        return Arrays.toString(shape);
    }
}
