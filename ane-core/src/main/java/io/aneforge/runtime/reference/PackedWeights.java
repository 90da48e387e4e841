package io.aneforge.runtime.reference;

import io.aneforge.mil.Operation;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Weights packed for the matrix products, shared by the plans of programs that hold the same weight ops: one
 * program cut to several sequence prefixes ({@code SamplePrefix}, {@link io.aneforge.mil.SequencePrefix} keeps
 * every op that only constants feed as the same {@link Operation} object). Each weight is decoded and packed
 * once, by the first plan that uses it, and the later plans take the same packed copy instead of packing it again;
 * {@link #clear} drops the copies after the last of them has run.
 *
 * <p>Why: {@code convert}'s golden FP32 pass runs the 32 fixed samples on three prefix programs (16, 32 and 64
 * positions), and packing all-MiniLM-L6-v2's FP32 projection weights (10.6 M floats, a transposition into the
 * GEMM's panels and a new 42 MB array) for each was about a seventh of that pass's samples in a profile
 * (docs/converter.md, thirteenth round).
 *
 * <p>The same floats as packing in each plan: a packed copy depends only on the weight op's values (an
 * {@code Operation} and its constants never change), the product's shape and whether the plan rounds that
 * weight to FP16, which are all in the key. Plans that share packs should be loaded one after another (a plan
 * packs while it compiles); the map is synchronized all the same.
 */
public final class PackedWeights {

    /** What a packed copy is of: the weight op by identity, the packing (B or A), its shape and FP16 rounding. */
    private record Key(Operation weight, String packing, int rows, int columns, boolean roundedToFp16) {
        @Override
        public boolean equals(Object o) {
            // by identity: an equal-looking op of another program may hold other values
            return o instanceof Key k && k.weight == weight && k.packing.equals(packing) && k.rows == rows
                    && k.columns == columns && k.roundedToFp16 == roundedToFp16;
        }

        @Override
        public int hashCode() {
            return ((System.identityHashCode(weight) * 31 + packing.hashCode()) * 31 + rows) * 31 + columns
                    + (roundedToFp16 ? 1 : 0);
        }
    }

    private final Map<Key, Object> packs = new HashMap<>();
    private int made;

    /** An empty set of packs, for the programs loaded until {@link #clear}. */
    public PackedWeights() {
    }

    /** The packed copy of {@code weight} for this packing, made by {@code pack} if no plan has made it yet. */
    synchronized <T> T get(Operation weight, String packing, int rows, int columns, boolean roundedToFp16, Class<T> type,
                           Supplier<T> pack) {
        Key key = new Key(weight, packing, rows, columns, roundedToFp16);
        Object p = packs.get(key);
        if (p == null) {
            p = pack.get();
            packs.put(key, p);
            made++;
        }
        return type.cast(p);
    }

    /** How many packed copies were made since this was created (tests: a second prefix program makes none). */
    public synchronized int made() {
        return made;
    }

    /** Drops the packed copies; plans loaded after this pack again. */
    public synchronized void clear() {
        packs.clear();
    }
}
