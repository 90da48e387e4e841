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
}
