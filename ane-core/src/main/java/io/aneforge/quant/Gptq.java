package io.aneforge.quant;

import io.aneforge.kernels.Parallel;
import io.aneforge.tensor.FloatTensor;

/**
 * GPTQ (Frantar, Ashkboos, Hoefler, Alistarh, "GPTQ: Accurate Post-Training Quantization for Generative
 * Pre-trained Transformers", ICLR 2023) for block-wise weights, written from the paper. Rounding every
 * weight to nearest minimizes each weight's own error; what the model sees is the error of {@code W·x}
 * on its real inputs. GPTQ rounds the input columns of {@code W [O, I]} one at a time and moves each
 * column's rounding error onto the columns not yet rounded, in the proportions that cancel it best
 * for inputs with the calibration's second moments {@code H = Σ x xᵀ} ({@link InputGram}):
 * <pre>
 *   columns in order of decreasing H[i, i] ("act order": the inputs that carry the most energy first)
 *   U upper triangular with UᵀU = (H + λ·I)⁻¹, in that order     λ = 10 % of mean diag(H) (damping)
 *   for column i:  q_i = round(W[:, i]),  e = (W[:, i] − q_i) / U[i, i],  W[:, j] −= e · U[i, j]  (j after i)
 * </pre>
 * The storage is exactly the range fit's ({@code constexpr_blockwise_shift_scale}, the same rounding and
 * clamp; {@link WeightQuantizer}), and so are the scales and zero points: each group's come from the range
 * of its original weights ("static groups", as the reference implementation does with act order); GPTQ
 * changes only the integers. Where the inputs are uncorrelated (diagonal H) nothing moves and the result is
 * the range fit's, bit for bit.
 *
 * <p>Deterministic: the same weights and sums give the same bytes (the order is H's diagonal with ties by
 * index; double arithmetic in a fixed order; the updates are split over threads by column, and each
 * column's sums keep their order). Updates are applied in batches of {@value #BATCH} columns (the paper's
 * "lazy batch" form: the same arithmetic, fewer passes over the weights). Inputs calibration never reached
 * (a zero diagonal) keep their weights' own error, as if uncorrelated.
 */
public final class Gptq {
    /**
     * Damping added to the diagonal, as a fraction of its mean. The paper uses 1 %; with about a thousand
     * calibration tokens for up to 1536 inputs (fewer tokens than inputs: H is singular before damping) more
     * damping keeps GPTQ from fitting the sample's noise. Chosen on the calibration texts alone (GPTQ on 48,
     * fidelity on the other 16, all-MiniLM-L6-v2 int4-block32: 1 %, 3 %, 10 %, 30 % gave affine 0.9847, 0.9859,
     * 0.9871, 0.9868 and symmetric 0.9765, 0.9778, 0.9802, 0.9786), not on the evaluation sentences.
     */
    public static final double DAMPING = 0.10;
    /** Columns per lazy batch. */
    static final int BATCH = 128;

    private Gptq() {
    }

    /** Whether GPTQ can quantize a weight of this shape with {@code spec}: block-wise, {@code [O, I]} or {@code [O, I, 1, 1]}. */
    public static boolean applies(int[] shape, QuantSpec spec) {
        return spec.kind() == QuantSpec.Kind.PER_BLOCK && shape.length >= 2 && shape[1] % spec.blockSize() == 0
                && FloatTensor.elementCount(shape) == (long) shape[0] * shape[1];
    }

    /**
     * Quantizes {@code weight} block-wise as {@code spec} asks, compensating rounding errors for inputs with the
     * second moments in {@code gram}. Throws {@link QuantizationException} for non-finite weights or scales
     * beyond FP16, as the range fit does.
     */
    public static QuantizedWeight quantize(String name, FloatTensor weight, QuantSpec spec, InputGram gram) {
        int[] shape = weight.shape();
        if (!applies(shape, spec)) {
            throw new IllegalArgumentException("GPTQ quantizes block-wise [O, I] or [O, I, 1, 1] weights; '" + name
                    + "' has shape " + java.util.Arrays.toString(shape) + " and spec " + spec.label());
        }
        int outs = shape[0];
        int ins = shape[1];
        if (gram.features() != ins) {
            throw new IllegalArgumentException("calibration inputs of '" + name + "' have " + gram.features()
                    + " features but the weight takes " + ins + " inputs; the statistics belong to another weight");
        }
        float[] w = weight.data();
        for (int k = 0; k < w.length; k++) {
            if (!Float.isFinite(w[k])) {
                throw WeightQuantizer.nonFinite(name, shape, w, k);
            }
        }
        Factor factor = factorOf(gram);
        int[] order = factor.order();
        double[] u = factor.u();
        int block = spec.blockSize();
        int blocksPerRow = ins / block;
        GroupScale grid = new GroupScale(name, spec);
        int lo = grid.lo();
        int hi = grid.hi();
        float[] scales = new float[outs * blocksPerRow];
        byte[] zps = spec.mode() == QuantMode.AFFINE || !spec.type().signed() ? new byte[scales.length] : null;
        int[] zeros = new int[scales.length];
        rangeFit(w, outs, ins, block, grid, scales, zps, zeros);
        // column-major working copy in processing order: column i (input order[i], all outputs) is contiguous,
        // so updates are axpy loops
        double[] cols = new double[ins * outs];
        for (int o = 0; o < outs; o++) {
            for (int i = 0; i < ins; i++) {
                cols[i * outs + o] = w[o * ins + order[i]];
            }
        }
        byte[] q = new byte[w.length];
        double[] errors = new double[BATCH * outs]; // the current batch's scaled errors, column-major
        for (int i1 = 0; i1 < ins; i1 += BATCH) {
            int i2 = Math.min(ins, i1 + BATCH);
            for (int i = i1; i < i2; i++) {
                int input = order[i];
                int group = input / block;
                double d = u[i * ins + i];
                int at = i * outs;
                int e0 = (i - i1) * outs;
                for (int o = 0; o < outs; o++) {
                    float v = (float) cols[at + o];
                    float s = scales[o * blocksPerRow + group];
                    int z = zeros[o * blocksPerRow + group];
                    int qi = (int) Math.max(lo, Math.min(hi, Math.rint(v / s) + z));
                    q[o * ins + input] = (byte) qi;
                    errors[e0 + o] = (cols[at + o] - s * (float) (qi - z)) / d;
                }
                for (int j = i + 1; j < i2; j++) {
                    axpy(-u[i * ins + j], errors, e0, cols, j * outs, outs);
                }
            }
            int first = i1;
            int last = i2;
            Parallel.forRange(ins - i2, Math.max(1, (1 << 16) / Math.max(1, outs * (last - first))), (j0, j1) -> {
                for (int j = i2 + j0; j < i2 + j1; j++) {
                    int i = first;
                    for (; i + 4 <= last; i += 4) {
                        int e = (i - first) * outs;
                        axpy4(-u[i * ins + j], errors, e, -u[(i + 1) * ins + j], errors, e + outs,
                                -u[(i + 2) * ins + j], errors, e + 2 * outs, -u[(i + 3) * ins + j], errors, e + 3 * outs,
                                cols, j * outs, outs);
                    }
                    for (; i < last; i++) {
                        axpy(-u[i * ins + j], errors, (i - first) * outs, cols, j * outs, outs);
                    }
                }
            });
        }
        return new QuantizedWeight(name, spec, shape.clone(), q, WeightQuantizer.blockScaleShape(shape, block), scales, zps);
    }

    /**
     * Four {@link #axpy} calls in one pass over y: {@code y = (((y + a·x) + b·u) + c·v) + d·t} per element, the very
     * operations of the four loops in their order (so the same bits), with y loaded and stored once.
     */
    private static void axpy4(double a, double[] x, int xAt, double b, double[] u, int uAt, double c, double[] v, int vAt,
                              double d, double[] t, int tAt, double[] y, int yAt, int n) {
        for (int k = 0; k < n; k++) {
            y[yAt + k] = y[yAt + k] + a * x[xAt + k] + b * u[uAt + k] + c * v[vAt + k] + d * t[tAt + k];
        }
    }

    /** {@code y[yAt + k] += a · x[xAt + k]} for k in [0, n): a loop C2 vectorizes; each element's sum keeps its order. */
    private static void axpy(double a, double[] x, int xAt, double[] y, int yAt, int n) {
        for (int k = 0; k < n; k++) {
            y[yAt + k] += a * x[xAt + k];
        }
    }

    /**
     * The range fit's scale and zero point of every group ({@link GroupScale}, from the range including 0 of the
     * original weights): GPTQ keeps them and changes only the integers.
     */
    private static void rangeFit(float[] w, int outs, int ins, int block, GroupScale grid, float[] scales, byte[] zps,
                                 int[] zeros) {
        int blocksPerRow = ins / block;
        for (int o = 0; o < outs; o++) {
            for (int b = 0; b < blocksPerRow; b++) {
                float mx = 0f;
                float mn = 0f;
                for (int c = o * ins + b * block; c < o * ins + (b + 1) * block; c++) {
                    mx = Math.max(mx, w[c]);
                    mn = Math.min(mn, w[c]);
                }
                int g = o * blocksPerRow + b;
                scales[g] = grid.scale(mx, mn, g);
                zeros[g] = grid.zeroPoint(mx, mn);
                if (zps != null) {
                    zps[g] = (byte) zeros[g];
                }
            }
        }
    }

    /** The processing order (inputs by decreasing H[i, i], ties by index) and U in that order. */
    record Factor(InputGram gram, int[] order, double[] u) {
    }

    /** The last factor computed: query, key and value share one input (one {@link InputGram}) and come one after another. */
    private static final java.util.concurrent.atomic.AtomicReference<Factor> LAST = new java.util.concurrent.atomic.AtomicReference<>();

    /** The order and factor of {@code gram}, reused when the previous weight had the same statistics (deterministic either way). */
    static Factor factorOf(InputGram gram) {
        Factor last = LAST.get();
        if (last != null && last.gram() == gram) {
            return last;
        }
        int[] order = actOrder(gram);
        Factor f = new Factor(gram, order, inverseFactor(gram, order));
        LAST.set(f);
        return f;
    }

    /** Inputs by decreasing diagonal of H (the paper's act order), ties by index. */
    static int[] actOrder(InputGram gram) {
        int n = gram.features();
        float[] h = gram.sums();
        return java.util.stream.IntStream.range(0, n).boxed()
                .sorted((a, b) -> {
                    int c = Float.compare(h[b * n + b], h[a * n + a]);
                    return c != 0 ? c : Integer.compare(a, b);
                })
                .mapToInt(Integer::intValue).toArray();
    }

    /**
     * The upper triangular U with {@code UᵀU = (H + λI)⁻¹}, row-major. With J the reversal of the index
     * order, {@code J(H + λI)J = LLᵀ} (Cholesky) gives {@code (H + λI)⁻¹ = (J L⁻¹ J)ᵀ (J L⁻¹ J)}, and
     * {@code J L⁻¹ J} is upper triangular: one factorization and one triangular inverse, no full inverse.
     * A zero diagonal entry (an input calibration never reached) becomes 1 before damping.
     */
    static double[] inverseFactor(InputGram gram) {
        return inverseFactor(gram, java.util.stream.IntStream.range(0, gram.features()).toArray());
    }

    /** {@link #inverseFactor(InputGram)} of H with its inputs (rows and columns) taken in {@code order}. */
    static double[] inverseFactor(InputGram gram, int[] order) {
        int n = gram.features();
        float[] h = gram.sums();
        double mean = 0;
        for (int i = 0; i < n; i++) {
            double d = h[order[i] * n + order[i]];
            if (!(d >= 0) || Double.isInfinite(d)) {
                throw new QuantizationException("calibration statistics hold a negative or non-finite second moment ("
                        + d + ") at input " + order[i] + "; they are corrupt — measure them again");
            }
            mean += d == 0 ? 1 : d;
        }
        double damp = DAMPING * mean / n;
        // a = J P H Pᵀ J + λI (P: the order), column-major (column c contiguous), lower triangle used
        double[] a = new double[n * n];
        for (int c = 0; c < n; c++) {
            int hc = order[n - 1 - c];
            for (int r = c; r < n; r++) {
                int hr = order[n - 1 - r];
                double v = h[hr * n + hc];
                if (r == c) {
                    v = (v == 0 ? 1 : v) + damp;
                }
                a[c * n + r] = v;
            }
        }
        cholesky(a, n);
        double[] inv = lowerInverse(a, n);
        // U[i][j] = (L⁻¹)[n−1−i][n−1−j]; L⁻¹ is column-major in inv
        double[] u = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                u[i * n + j] = inv[(n - 1 - j) * n + (n - 1 - i)];
            }
        }
        return u;
    }

    /** Columns per panel of {@link #cholesky} and per set of {@link #lowerInverse}. */
    private static final int PANEL = 32;

    /**
     * In-place lower Cholesky factor of the column-major lower triangle of {@code a}: right-looking, each column
     * receiving the updates of the columns left of it in order (axpy loops), so the same bits whatever the threads.
     * In panels of {@value #PANEL} columns: a panel is factored, then every column right of it takes the panel's
     * updates while it sits in cache (one pass over the trailing matrix per panel instead of per column).
     */
    private static void cholesky(double[] a, int n) {
        for (int p0 = 0; p0 < n; p0 += PANEL) {
            int p1 = Math.min(n, p0 + PANEL);
            for (int k = p0; k < p1; k++) {
                double pivot = a[k * n + k];
                if (!(pivot > 0)) {
                    throw new QuantizationException("calibration statistics are not positive definite at input "
                            + (n - 1 - k) + " even with damping; they are corrupt — measure them again");
                }
                double d = Math.sqrt(pivot);
                a[k * n + k] = d;
                for (int r = k + 1; r < n; r++) {
                    a[k * n + r] /= d;
                }
                for (int c = k + 1; c < p1; c++) {
                    update(a, n, k, c);
                }
            }
            int from = p0;
            int to = p1;
            Parallel.forRange(n - p1, Math.max(1, (1 << 17) / Math.max(1, (n - p1) * (p1 - p0))), (c0, c1) -> {
                for (int c = to + c0; c < to + c1; c++) {
                    int k = from;
                    for (; k + 4 <= to; k += 4) {
                        int at = c * n + c;
                        axpy4(-a[k * n + c], a, k * n + c, -a[(k + 1) * n + c], a, (k + 1) * n + c,
                                -a[(k + 2) * n + c], a, (k + 2) * n + c, -a[(k + 3) * n + c], a, (k + 3) * n + c,
                                a, at, n - c);
                    }
                    for (; k < to; k++) {
                        update(a, n, k, c);
                    }
                }
            });
        }
    }

    /** Column c (rows c and below) minus L[c][k] times column k of the factor. */
    private static void update(double[] a, int n, int k, int c) {
        double f = a[k * n + c];
        if (f != 0) {
            axpy(-f, a, k * n + c, a, c * n + c, n - c);
        }
    }

    /**
     * The inverse of the lower triangular column-major {@code l}, column-major: column c solves {@code L x = e_c}
     * by forward substitution (axpy loops). Sets of {@value #PANEL} columns walk down L together, so each column of
     * L is read once per set; each column's own operations stay in order.
     */
    private static double[] lowerInverse(double[] l, int n) {
        double[] inv = new double[n * n];
        int sets = (n + PANEL - 1) / PANEL;
        Parallel.forRange(sets, 1, (s0, s1) -> {
            for (int set = s0; set < s1; set++) {
                int c0 = set * PANEL;
                int c1 = Math.min(n, c0 + PANEL);
                for (int c = c0; c < c1; c++) {
                    inv[c * n + c] = 1;
                }
                for (int k = c0; k < n; k++) {
                    double diag = l[k * n + k];
                    for (int c = c0; c < Math.min(c1, k + 1); c++) {
                        int col = c * n;
                        double x = inv[col + k] / diag;
                        inv[col + k] = x;
                        if (x != 0) {
                            axpy(-x, l, k * n + k + 1, inv, col + k + 1, n - k - 1);
                        }
                    }
                }
            }
        });
        return inv;
    }
}
