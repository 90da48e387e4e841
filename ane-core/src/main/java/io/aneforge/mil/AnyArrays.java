package io.aneforge.mil;

import java.util.Arrays;

/** Small array factories used by op defaults. */
final class AnyArrays {
    private AnyArrays() {
    }

    static int[] filled(int n, int v) {
        int[] a = new int[n];
        Arrays.fill(a, v);
        return a;
    }
}
