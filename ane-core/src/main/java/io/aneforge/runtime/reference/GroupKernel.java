package io.aneforge.runtime.reference;

import io.aneforge.tensor.FloatTensor;

/**
 * A kernel that can also run its op for several predictions in one call, for
 * {@link ReferenceModel#predictAll}: the direct conv with a load-time weight ({@link StackedGemm})
 * reads its weight from memory once per group instead of once per prediction.
 */
interface GroupKernel extends Kernel {

    /**
     * {@code result[r]} holds, bit for bit, what {@link #run} returns for {@code frames[r]}, in
     * fresh arrays of its own (the caller counts and rounds each prediction's outputs separately).
     */
    FloatTensor[][] runAll(FloatTensor[][] frames);

    /**
     * Like {@link #runAll(FloatTensor[][])}, but only the first {@code positions[r]} positions of prediction r
     * need to be right: the caller ({@link ReferenceModel#predictAll(java.util.List, int[])}) has checked that
     * this step's rows (a linear) or columns (a 1×1 conv) are the sequence positions. Those positions are, bit
     * for bit, what {@link #runAll(FloatTensor[][])} gives; the others may hold anything finite (the kernels
     * leave zeros). The default computes everything.
     */
    default FloatTensor[][] runAll(FloatTensor[][] frames, int[] positions) {
        return runAll(frames);
    }
}
