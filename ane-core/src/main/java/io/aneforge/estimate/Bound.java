package io.aneforge.estimate;

/** Which roof limits an estimate: the Neural Engine's arithmetic or the memory bandwidth. */
public enum Bound {
    COMPUTE,
    MEMORY
}
