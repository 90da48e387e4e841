package io.aneforge.runtime.reference;

import io.aneforge.tensor.FloatTensor;

/** Runs one op: reads its arguments from the frame's slots, returns its outputs in order. */
@FunctionalInterface
interface Kernel {
    FloatTensor[] run(FloatTensor[] frame);
}
