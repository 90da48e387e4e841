package io.aneforge.eval;

import io.aneforge.tensor.FloatTensor;
import java.util.Arrays;

/**
 * A golden tensor as held in memory: its shape and its leading elements ({@code stored}); every element after them
 * is {@code +0.0f}. Golden outputs are laid out at full sequence length with zeros at the padded positions, which
 * come last, so a per-token output {@code (1, S, C)} holds its sample's real tokens only: for GPT-2's logits at
 * seq 128 the 32 fixed samples hold 615 of 4096 positions, about 124 MB instead of 823 MB. This is the form golden
 * format 2 stores ({@code GoldenOutputsCodec}: trailing zeros left out), kept after decoding.
 *
 * <p>Comparisons read it directly ({@link #copy}); {@link #expand()} allocates the whole tensor, for small outputs
 * and tests. Equality is by value: the same shape and the same elements, whatever part of the zeros is held.
 * The array is not copied (golden data is large); callers must not mutate a tensor they have handed on.
 *
 * <p>A tensor may instead hold some positions only ({@code heldPositions}, golden format 3): a per-token output
 * {@code (1, S, ...)} whose rows are vocabulary-sized logits, stored at a few real tokens per version
 * ({@code io.aneforge.eval.golden.HeldPositions}) so that agents do not hold the logits of every token. Its
 * {@code stored} is then the held rows, one after another, and the other positions are unknown (not zeros): such a
 * tensor cannot be {@link #expand()}ed or {@link #copy}ed, only its rows read ({@link #heldRow}); comparisons compare
 * the held positions only ({@code VariantFidelity}).
 *
 * @param heldPositions null when the tensor holds its leading elements (every position, trailing zeros aside); else
 *                      the sequence positions (axis 1) it holds, ascending
 */
public record GoldenTensor(int[] shape, float[] stored, int[] heldPositions) {

    public GoldenTensor {
        if (shape == null || stored == null) {
            throw new IllegalArgumentException("golden tensor: shape and stored elements are required");
        }
        long size = FloatTensor.elementCount(shape);
        if (size > Integer.MAX_VALUE) {
            // size() and copy's bounds are ints, as FloatTensor's are: a larger shape could never be expanded.
            throw new IllegalArgumentException("golden tensor: shape " + Arrays.toString(shape) + " has " + size
                    + " elements, more than the " + Integer.MAX_VALUE + " a tensor can have");
        }
        if (stored.length > size) {
            throw new IllegalArgumentException("golden tensor: " + stored.length + " stored elements for shape "
                    + Arrays.toString(shape) + ", which holds " + size);
        }
        if (heldPositions != null) {
            checkHeldPositions(shape, stored.length, heldPositions);
        }
    }

    /** A tensor holding its leading elements ({@code stored}); every element after them is {@code +0.0f}. */
    public GoldenTensor(int[] shape, float[] stored) {
        this(shape, stored, null);
    }

    private static void checkHeldPositions(int[] shape, int stored, int[] positions) {
        if (shape.length < 2 || shape[0] != 1 || shape[1] == 0) {
            throw new IllegalArgumentException("golden tensor: held positions need a per-token shape (1, S, ...), not "
                    + Arrays.toString(shape));
        }
        for (int i = 0; i < positions.length; i++) {
            if (positions[i] < 0 || positions[i] >= shape[1] || i > 0 && positions[i] <= positions[i - 1]) {
                throw new IllegalArgumentException("golden tensor: held positions " + Arrays.toString(positions)
                        + " must be ascending, each in 0.." + (shape[1] - 1) + " (shape " + Arrays.toString(shape) + ")");
            }
        }
        long expected = (long) positions.length * rowWidth(shape);
        if (stored != expected) {
            throw new IllegalArgumentException("golden tensor: " + stored + " stored elements for " + positions.length
                    + " held positions of shape " + Arrays.toString(shape) + ", which need " + expected);
        }
    }

    /**
     * This tensor's rows (axis 1) at {@code positions} only, ascending: what golden format 3 stores of a
     * vocabulary-sized per-token output. This tensor is {@code (1, S, ...)} and holds every position.
     */
    public GoldenTensor atPositions(int[] positions) {
        requireEveryPosition("cut to positions again");
        if (shape.length < 2 || shape[0] != 1 || shape[1] == 0) {
            throw new IllegalArgumentException("golden tensor: held positions need a per-token shape (1, S, ...), not "
                    + Arrays.toString(shape));
        }
        int row = rowWidth(shape);
        float[] data = new float[positions.length * row];
        for (int i = 0; i < positions.length; i++) {
            if (positions[i] < 0 || positions[i] >= shape[1]) {
                throw new IllegalArgumentException("golden tensor: position " + positions[i] + " is outside shape "
                        + Arrays.toString(shape));
            }
            copy(positions[i] * row, data, i * row, row);
        }
        return new GoldenTensor(shape.clone(), data, positions.clone());
    }

    /** Elements of one position (axis 1) of a {@code (1, S, ...)} shape. */
    public static int rowWidth(int[] shape) {
        long size = FloatTensor.elementCount(shape);
        return shape[1] == 0 ? 0 : (int) (size / shape[1]);
    }

    /** True when the tensor holds some positions only ({@link #heldPositions()} is not null). */
    public boolean holdsSomePositionsOnly() {
        return heldPositions != null;
    }

    /** Copies the {@code index}-th held row (position {@code heldPositions()[index]}) into {@code dst} at {@code at}. */
    public void heldRow(int index, float[] dst, int at) {
        if (heldPositions == null) {
            throw new IllegalStateException("golden tensor " + Arrays.toString(shape) + " holds every position: read it"
                    + " with copy");
        }
        int row = rowWidth(shape);
        System.arraycopy(stored, index * row, dst, at, row);
    }

    /** {@code t} as it is (its array, trailing zeros included): no copy. */
    public static GoldenTensor of(FloatTensor t) {
        return new GoldenTensor(t.shape(), t.data());
    }

    /** {@code t} without its trailing {@code +0.0f} (a copy when there are any; {@code -0.0f} keeps its bits). */
    public static GoldenTensor trimmed(FloatTensor t) {
        float[] data = t.data();
        int end = nonZeroEnd(data, data.length);
        return new GoldenTensor(t.shape(), end == data.length ? data : Arrays.copyOf(data, end));
    }

    /** The length of {@code data}'s first {@code length} elements without their trailing {@code +0.0f}. */
    public static int nonZeroEnd(float[] data, int length) {
        int end = length;
        while (end > 0 && Float.floatToRawIntBits(data[end - 1]) == 0) {
            end--;
        }
        return end;
    }

    public int rank() {
        return shape.length;
    }

    /** Elements of the whole tensor, held or not. */
    public int size() {
        return (int) FloatTensor.elementCount(shape);
    }

    /** Bytes of the whole tensor once expanded (4 per element, held or not): what {@link #expand()} allocates. */
    public long expandedBytes() {
        return 4L * size();
    }

    /**
     * Bytes this tensor holds: 4 per stored element, and 4 per held position (golden format 3's position array,
     * counted so that a bound on held bytes also bounds what a blob's position counts make a reader allocate).
     */
    public long heldBytes() {
        return 4L * stored.length + (heldPositions == null ? 0 : 4L * heldPositions.length);
    }

    /**
     * The whole tensor (a new array, unless every element is held).
     *
     * @throws IllegalStateException for a tensor that holds some positions only: the others are not known
     */
    public FloatTensor expand() {
        requireEveryPosition("expanded");
        int size = size();
        return new FloatTensor(shape, stored.length == size ? stored : Arrays.copyOf(stored, size));
    }

    /** Copies elements {@code from .. from + length} into {@code dst} at {@code at}, writing the zeros not held. */
    public void copy(int from, float[] dst, int at, int length) {
        requireEveryPosition("copied by element");
        if (from < 0 || length < 0 || (long) from + length > size()) {
            throw new IndexOutOfBoundsException("golden tensor " + Arrays.toString(shape) + ": elements " + from
                    + " + " + length + " of " + size());
        }
        int held = Math.max(0, Math.min(length, stored.length - from));
        if (held > 0) { // a range starting past the held elements is all zeros (arraycopy refuses such a start)
            System.arraycopy(stored, from, dst, at, held);
        }
        Arrays.fill(dst, at + held, at + length, 0f);
    }

    private void requireEveryPosition(String what) {
        if (heldPositions != null) {
            throw new IllegalStateException("golden tensor " + Arrays.toString(shape) + " holds positions "
                    + Arrays.toString(heldPositions) + " only (golden format 3), so it cannot be " + what + ": the other"
                    + " positions are not known; compare it with VariantFidelity, which reads the held rows");
        }
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof GoldenTensor t) || !Arrays.equals(shape, t.shape)
                || !Arrays.equals(heldPositions, t.heldPositions)) {
            return false;
        }
        if (heldPositions != null) {
            return Arrays.equals(stored, t.stored);
        }
        float[] shorter = stored.length <= t.stored.length ? stored : t.stored;
        float[] longer = shorter == stored ? t.stored : stored;
        if (!Arrays.equals(shorter, 0, shorter.length, longer, 0, shorter.length)) {
            return false;
        }
        return nonZeroEnd(longer, longer.length) <= shorter.length;
    }

    @Override
    public int hashCode() {
        int end = heldPositions != null ? stored.length : nonZeroEnd(stored, stored.length);
        int h = Arrays.hashCode(shape) * 31 + Arrays.hashCode(heldPositions);
        for (int i = 0; i < end; i++) {
            h = 31 * h + Float.floatToIntBits(stored[i]);
        }
        return h;
    }

    @Override
    public String toString() {
        return "GoldenTensor" + shapeString() + " holding " + stored.length + " of " + size() + " elements"
                + (heldPositions == null ? "" : " at positions " + Arrays.toString(heldPositions));
    }
}
