package io.aneforge.runtime.reference;

import io.aneforge.mil.Operation;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Weights packed for the matrix products, shared by the plans of programs that hold the same weight ops: one
 * program cut to several sequence prefixes ({@code SamplePrefix}; {@link io.aneforge.mil.SequencePrefix} keeps
 * every op that only constants feed as the same {@link Operation} object). A plan that packs its weights at load
 * packs each one here, unless an earlier plan already did, and takes the same packed copy; a plan that packs on use
 * (one group of predictions, {@link ReferenceRuntime#load(io.aneforge.mil.Program, io.aneforge.runtime.RuntimeOptions,
 * boolean, boolean, PackedWeights)}) takes a copy already here and otherwise packs on use as it would alone, adding
 * nothing, so programs that all pack on use hold nothing packed. {@link #close} drops the copies after the last of
 * them has run.
 *
 * <p>Why: {@code convert}'s golden FP32 pass runs the 32 fixed samples on three prefix programs (16, 32 and 64
 * positions), and packing all-MiniLM-L6-v2's FP32 projection weights (10.6 M floats, a transposition into the
 * GEMM's panels and a new 42 MB array) for each was about a seventh of that pass's samples in a profile
 * (docs/converter.md, thirteenth round).
 *
 * <p>The same floats as packing in each plan. A weight that is packed is a {@code const} or {@code constexpr_*} op
 * that reads only constants, and no step between a program and its plan rewrites such an op (the plan keys on the
 * program's own op, not on a copy with its defaults filled in), so the op's identity fixes its values; the
 * product's shape and whether the plan rounds that weight to FP16 are in the key too. Plans that share packs should
 * be loaded one after another (a plan packs while it compiles); the map is synchronized all the same.
 */
public final class PackedWeights implements AutoCloseable {

    /** Which operand of the product a weight is packed as: B transposed (a linear), or A (a 1×1 conv). */
    public enum Operand { A, B }

    /** What a packed copy is of: the weight op by identity, the operand, its shape and FP16 rounding. */
    private record Key(Operation weight, Operand operand, int rows, int columns, boolean roundedToFp16) {
        @Override
        public boolean equals(Object o) {
            // by identity: an equal-looking op of another program may hold other values
            return o instanceof Key k && k.weight == weight && k.operand == operand && k.rows == rows
                    && k.columns == columns && k.roundedToFp16 == roundedToFp16;
        }

        @Override
        public int hashCode() {
            return ((System.identityHashCode(weight) * 31 + operand.ordinal()) * 31 + rows) * 31 + columns
                    + (roundedToFp16 ? 1 : 0);
        }
    }

    private final Map<Key, Object> packs = new HashMap<>();
    private final Map<Operand, Integer> made = new EnumMap<>(Operand.class);
    private boolean closed;

    /** An empty set of packs, for the programs loaded until {@link #close}. */
    public PackedWeights() {
    }

    /** The packed copy of {@code weight} as {@code operand}, made by {@code pack} (and held) if no plan has made it yet. */
    synchronized <T> T get(Operation weight, Operand operand, int rows, int columns, boolean roundedToFp16, Class<T> type,
                           Supplier<T> pack) {
        T held = held(weight, operand, rows, columns, roundedToFp16, type);
        if (held != null) {
            return held;
        }
        T p = pack.get();
        packs.put(new Key(weight, operand, rows, columns, roundedToFp16), p);
        made.merge(operand, 1, Integer::sum);
        return p;
    }

    /** The packed copy of {@code weight} as {@code operand} an earlier plan made, or null (nothing is packed here). */
    synchronized <T> T held(Operation weight, Operand operand, int rows, int columns, boolean roundedToFp16, Class<T> type) {
        requireOpen();
        return type.cast(packs.get(new Key(weight, operand, rows, columns, roundedToFp16)));
    }

    /** Fails once closed: a plan compiled after close would pack again and hold its copies past the last program. */
    synchronized void requireOpen() {
        if (closed) {
            throw new IllegalStateException("these packed weights were closed after the last program that shares them "
                    + "ran; load further programs with new PackedWeights (ProgramEvaluator.sharingWeights) or none");
        }
    }

    /** How many packed copies were made since this was created (tests: a second prefix program makes none). */
    public synchronized int made() {
        return made.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** How many packed copies of weights as {@code operand} were made since this was created. */
    public synchronized int made(Operand operand) {
        return made.getOrDefault(operand, 0);
    }

    /** Drops the packed copies; loading a program with these packs afterwards fails ({@link IllegalStateException}). */
    @Override
    public synchronized void close() {
        packs.clear();
        closed = true;
    }
}
