package io.aneforge.vector;

import jdk.incubator.vector.FloatVector;

/** Names incubator types: loaded only by {@link VectorPath} after it found the module. */
final class VectorProbe {

    private VectorProbe() {
    }

    /**
     * At least 8 float lanes (AVX2 or wider). A narrower preferred shape means no usable SIMD
     * (or only SSE), where the incubator API runs mostly unintrinsified and is slower than C2's
     * own loops.
     */
    static boolean wideEnough() {
        return FloatVector.SPECIES_PREFERRED.length() >= 8;
    }

    static String describe() {
        return FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit, "
                + FloatVector.SPECIES_PREFERRED.length() + " float lanes";
    }
}
