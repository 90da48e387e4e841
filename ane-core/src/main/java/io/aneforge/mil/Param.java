package io.aneforge.mil;

import java.util.EnumSet;
import java.util.Set;

/**
 * One parameter of an op: its name, whether it must be a compile-time constant, the
 * dtypes and ranks it accepts, whether it is variadic, its default, and the first
 * target that has it.
 *
 * @param sameDTypeAs when set, the argument's dtype must equal that parameter's (MIL type domain "T")
 * @param defaultValue null for a required parameter ({@code optional} false) or for an
 *                     optional one that stays unbound when absent ({@code split.num_splits})
 */
public record Param(String name, boolean mustBeConst, Set<DType> dtypes, String sameDTypeAs, int minRank, int maxRank,
                    boolean variadic, boolean optional, DefaultValue defaultValue, Target since) {

    /** Computes a default from the arguments already bound (e.g. conv strides from the input rank). */
    @FunctionalInterface
    public interface DefaultValue {
        Constant compute(OpContext c);
    }

    public static final Set<DType> FLOATS = EnumSet.of(DType.FP16, DType.FP32);
    public static final Set<DType> NUMERIC = EnumSet.of(DType.FP16, DType.FP32, DType.INT32);
    public static final Set<DType> INT32 = EnumSet.of(DType.INT32);
    public static final Set<DType> BOOL = EnumSet.of(DType.BOOL);
    public static final Set<DType> STRING = EnumSet.of(DType.STRING);
    public static final Set<DType> ANY = EnumSet.allOf(DType.class);

    public Param {
        dtypes = Set.copyOf(dtypes);
        if (!optional && defaultValue != null) {
            throw new IllegalStateException("required parameter '" + name + "' cannot have a default");
        }
    }

    public static Param tensor(String name, Set<DType> dtypes) {
        return new Param(name, false, dtypes, null, 0, TensorType.MAX_RANK, false, false, null, Target.IOS15);
    }

    public static Param constant(String name, Set<DType> dtypes) {
        return new Param(name, true, dtypes, null, 0, TensorType.MAX_RANK, false, false, null, Target.IOS15);
    }

    public Param ranks(int min, int max) {
        return new Param(name, mustBeConst, dtypes, sameDTypeAs, min, max, variadic, optional, defaultValue, since);
    }

    public Param rank(int r) {
        return ranks(r, r);
    }

    public Param sameAs(String other) {
        return new Param(name, mustBeConst, dtypes, other, minRank, maxRank, variadic, optional, defaultValue, since);
    }

    public Param asVariadic() {
        return new Param(name, mustBeConst, dtypes, sameDTypeAs, minRank, maxRank, true, optional, defaultValue, since);
    }

    public Param optional(DefaultValue dflt) {
        return new Param(name, mustBeConst, dtypes, sameDTypeAs, minRank, maxRank, variadic, true, dflt, since);
    }

    public Param optional(Constant dflt) {
        return optional(c -> dflt);
    }

    /** Optional and left unbound when absent. */
    public Param optionalUnbound() {
        return optional((DefaultValue) null);
    }

    public Param since(Target t) {
        return new Param(name, mustBeConst, dtypes, sameDTypeAs, minRank, maxRank, variadic, optional, defaultValue, t);
    }
}
