package io.aneforge.gate;

/** Outcome of gates for a variant or a version. */
public enum GateStatus {
    /** Every gate is met by a result. */
    PASS,
    /** At least one gate is violated by a result (or a benchmark failed); more results cannot fix it. */
    FAIL,
    /** Nothing fails, but a result a gate needs is still pending. */
    INCOMPLETE
}
