/**
 * Roofline latency estimates for a variant on a chip, for cells of the fragmentation
 * matrix that have no measurement yet. {@link io.aneforge.estimate.CostCounter} walks a
 * MIL program and counts FLOPs and bytes moved ({@link io.aneforge.estimate.ProgramCost});
 * {@link io.aneforge.estimate.Roofline} combines them with a chip's published Neural
 * Engine TOPS and memory bandwidth into a latency range
 * ({@link io.aneforge.estimate.LatencyEstimate}), always labelled {@code estimated}.
 * The assumptions are listed on each class and in docs/qa.md; an estimate never
 * replaces a measurement.
 */
package io.aneforge.estimate;
