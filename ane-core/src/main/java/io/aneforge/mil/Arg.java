package io.aneforge.mil;

/**
 * What an op input is bound to: a named {@link Var} (an op output or a function input)
 * or an immediate {@link Constant} (written as {@code Binding.value}).
 */
public sealed interface Arg permits Var, Constant {
    TensorType type();
}
