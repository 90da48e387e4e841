/**
 * The reference CPU runtime ({@code reference-cpu}): runs a {@code .mlpackage} on any host
 * with the MIL ops' own evaluations, using the multithreaded kernels of
 * {@code io.aneforge.kernels} for the heavy ops (matmul, linear, conv, einsum, softmax,
 * layer_norm, gelu, binary arithmetic, transpose) unless {@code -Daneforge.kernels=scalar}.
 *
 * <p>Loading reads and validates the package, fills optional parameters with their
 * defaults, evaluates every load-time value once (const and constexpr ops, and ops fed only
 * by them, so quantized weights are dequantized once) and compiles an
 * {@link io.aneforge.runtime.reference.ExecutionPlan}: one step per remaining op, with the
 * values each step is the last reader of, so intermediates are released as soon as they are
 * dead. {@code fp16Activations} rounds every float value to FP16 between ops, like the
 * Neural Engine.
 */
package io.aneforge.runtime.reference;
