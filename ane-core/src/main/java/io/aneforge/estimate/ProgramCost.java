package io.aneforge.estimate;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The work in one prediction of a program, as {@link CostCounter} counts it.
 *
 * @param flops            floating-point operations (a multiply-add counts 2)
 * @param weightBytes      compile-time constants read once, at their stored size (packed int8/int4 included)
 * @param activationBytes  non-constant tensors read and written by ops, at 2 bytes (fp16) per element
 * @param flopsByOpType    {@code flops} split by MIL op type, for the basis text and for debugging a surprising estimate
 */
public record ProgramCost(long flops, long weightBytes, long activationBytes, Map<String, Long> flopsByOpType) {
    public ProgramCost {
        if (flops < 0 || weightBytes < 0 || activationBytes < 0) {
            throw new IllegalArgumentException("costs must be non-negative, got flops " + flops + ", weight bytes "
                    + weightBytes + ", activation bytes " + activationBytes);
        }
        flopsByOpType = Collections.unmodifiableMap(new LinkedHashMap<>(flopsByOpType == null ? Map.of() : flopsByOpType));
    }

    /** A cost known only as totals (e.g. computed outside this package, or in a calibration test). */
    public static ProgramCost of(long flops, long weightBytes, long activationBytes) {
        return new ProgramCost(flops, weightBytes, activationBytes, Map.of());
    }

    /** Total bytes moved between memory and the Neural Engine. */
    public long bytes() {
        return weightBytes + activationBytes;
    }
}
