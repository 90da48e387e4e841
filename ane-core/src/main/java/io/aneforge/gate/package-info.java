/**
 * Release gates per model and their evaluation: {@link io.aneforge.gate.Gates} (the limits
 * a version must meet), {@link io.aneforge.gate.GateEvaluator} (per-variant
 * PASS/FAIL/INCOMPLETE with precise reasons, and the version roll-up that promotion
 * checks) and {@link io.aneforge.gate.BaselineComparison} (per-cell deltas between two
 * versions with a regression flag). Plain values in, plain values out: the registry
 * gathers the facts and stores the results. Semantics are documented in docs/qa.md.
 */
package io.aneforge.gate;
