package io.aneforge.mil;

/**
 * A named value: a function input or an op output. {@code constValue} is the data when
 * the producer is a {@code const} op (type inference reads axes, shapes and modes
 * through it); null otherwise.
 */
public record Var(String name, TensorType type, Constant constValue) implements Arg {
    public Var {
        Names.requireIdentifier(name);
        if (type == null) {
            throw new IllegalArgumentException("var '" + name + "' needs a type");
        }
        if (constValue != null && !constValue.type().equals(type)) {
            throw new IllegalStateException("var '" + name + "' has type " + type + " but its constant is " + constValue.type());
        }
    }

    public Var(String name, TensorType type) {
        this(name, type, null);
    }

    public boolean isConst() {
        return constValue != null;
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
