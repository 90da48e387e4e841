/**
 * An in-memory MIL program (Core ML's ML Program IR) with static shapes: dtypes,
 * deployment targets, tensor types, constants, vars, operations and the program.
 *
 * <p>Each op is defined once ({@link io.aneforge.mil.OpDef}, registered in
 * {@link io.aneforge.mil.Ops}): parameters with defaults, dtypes, ranks, constness and
 * first target; type rule; scalar FP32 reference evaluation. {@link io.aneforge.mil.MilBuilder}
 * type-checks each op as it is added, {@link io.aneforge.mil.ProgramValidator} re-checks
 * whole programs (e.g. read from disk) and {@link io.aneforge.mil.ReferenceEvaluator}
 * runs them. No I/O here: reading and writing packages is {@code io.aneforge.mlpackage}.
 */
package io.aneforge.mil;
