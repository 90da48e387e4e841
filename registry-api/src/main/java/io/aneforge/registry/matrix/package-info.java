/**
 * Release gates per model, the variant × compute-units matrix of a version (measured results,
 * roofline estimates, gate status, deltas against a baseline version) and the gate check that
 * alias moves call. Evaluation itself is {@code io.aneforge.gate}; estimates are
 * {@code io.aneforge.estimate}; this package only gathers the registry's facts for them.
 */
package io.aneforge.registry.matrix;
