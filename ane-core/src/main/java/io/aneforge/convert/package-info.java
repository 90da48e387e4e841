/**
 * The conversion facade other modules call (CLI, worker): build a variant's program
 * ({@link io.aneforge.convert.VariantConverter#build}), write it as an {@code .mlpackage} with
 * its deterministic archive ({@link io.aneforge.convert.VariantConverter#convert}), compute the
 * FP32 golden outputs of the unconverted graph ({@link io.aneforge.convert.Golden}) and measure
 * a variant against them ({@link io.aneforge.convert.VariantFidelity}). Programs are evaluated
 * through the {@link io.aneforge.convert.ProgramEvaluator} seam.
 */
package io.aneforge.convert;
