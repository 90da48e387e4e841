package io.aneforge.mil;

/**
 * A named value: a function input or an op output. {@code constValue} is the data when
 * the producer is a {@code const} op (type inference reads axes, shapes and modes
 * through it); null otherwise. {@code constexpr} marks outputs of {@code constexpr_*}
 * ops: compile-time constants whose data Core ML materializes at load time, accepted
 * wherever a parameter must be constant (e.g. a quantized {@code linear.weight}).
 */
public record Var(String name, TensorType type, Constant constValue, boolean constexpr) implements Arg {
    public Var {
        Names.requireIdentifier(name);
        if (type == null) {
            throw new IllegalArgumentException("var '" + name + "' needs a type");
        }
        if (constValue != null && !constValue.type().equals(type)) {
            throw new IllegalStateException("var '" + name + "' has type " + type + " but its constant is " + constValue.type());
        }
    }

    public Var(String name, TensorType type, Constant constValue) {
        this(name, type, constValue, false);
    }

    public Var(String name, TensorType type) {
        this(name, type, null, false);
    }

    public boolean isConst() {
        return constValue != null;
    }

    /** Known at compile time: a const op's output or a constexpr op's output. */
    public boolean isCompileTimeConstant() {
        return constValue != null || constexpr;
    }

    public int rank() {
        return type.rank();
    }

    public int[] shape() {
        return type.shape();
    }

    public DType dtype() {
        return type.dtype();
    }

    @Override
    public String toString() {
        return "%" + name + ":" + type;
    }
}
