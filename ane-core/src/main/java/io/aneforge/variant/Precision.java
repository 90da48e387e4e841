package io.aneforge.variant;

import io.aneforge.mil.Target;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a variant stores its weights (CONVERTER.md §3), written as a short id:
 * {@code fp32}, {@code fp16}, {@code int8-channel}, {@code int8-block32},
 * {@code int4-block32-affine}, {@code int4-block32-mse}, {@code int4-block32-affine-mse},
 * {@code int4-block32-affine-ffn8}, {@code int4-block32-affine-mse-ffn8}, {@code int4-block32-affine-gptq}, {@code w8a8},
 * {@code w8a8-affine}.
 *
 * @param scheme the weight scheme
 * @param blockSize elements per block along the input axis for block-wise schemes, else 0
 * @param affine block-wise: affine (scale + offset) rather than symmetric (scale only) weights; {@code w8a8}: affine
 *     activations (suffix {@code -affine}: a scale and an int8 zero point per quantized input, coremltools' activation
 *     mode {@code linear}) rather than symmetric ones (scale only, coremltools' default {@code linear_symmetric});
 *     the weights stay per-channel symmetric either way. Always true for {@code int8-channel} (its scheme's mode)
 * @param mse block-wise only: scales (and offsets) from the per-block clip search
 *     ({@code QuantSpec.ScaleFit.MSE}, suffix {@code -mse}) instead of coremltools' range formula
 * @param ffn8 int4 block-wise only (suffix {@code -ffn8}, always last): the FFN input projections
 *     (BERT {@code intermediate.dense}, DistilBERT {@code ffn.lin1}, GPT-2 {@code mlp.c_fc}) are stored
 *     int8 block-wise with the same block size, mode and scale fit; every other quantized tensor is int4.
 *     On all-MiniLM-L6-v2 this lifts int4 affine above 0.98 cosine for 14 % more archive bytes
 *     (docs/converter.md, "Mixed precision")
 * @param gptq block-wise only (suffix {@code -gptq}, in place of {@code -mse}): GPTQ error compensation
 *     ({@code QuantSpec.ScaleFit.GPTQ}) with what the model's projections see on calibration texts; the
 *     conversion measures those first ({@code io.aneforge.convert.Calibration}). Weights no calibration input
 *     reaches (embedding tables) get the range fit
 *
 * <p>{@code w8a8} (iOS 17): int8 weights per channel (symmetric) and int8 activations: a {@code quantize} ->
 * {@code dequantize} pair with one calibrated scale before every projection ({@code io.aneforge.graph.WeightStore#activation});
 * like {@code -gptq} it needs calibration ({@link #calibrated()}). {@code w8a8-affine} is the same with a zero point
 * in each pair (docs/converter.md, "W8A8").
 */
public record Precision(Scheme scheme, int blockSize, boolean affine, boolean mse, boolean ffn8, boolean gptq) {

    public enum Scheme { FP32, FP16, INT8_CHANNEL, INT8_BLOCK, INT4_BLOCK, W8A8 }

    public static final Precision FP32 = new Precision(Scheme.FP32, 0, false);
    public static final Precision FP16 = new Precision(Scheme.FP16, 0, false);
    public static final Precision INT8_CHANNEL = new Precision(Scheme.INT8_CHANNEL, 0, true);

    private static final Pattern BLOCK = Pattern.compile("int([48])-block(\\d+)(-affine)?((?:-mse|-gptq){0,2})(-ffn8)?");

    /** The range scale fit (coremltools'), as every precision had before the clip search. */
    public Precision(Scheme scheme, int blockSize, boolean affine) {
        this(scheme, blockSize, affine, false, false);
    }

    /** One precision for every quantized tensor (no FFN-input override). */
    public Precision(Scheme scheme, int blockSize, boolean affine, boolean mse) {
        this(scheme, blockSize, affine, mse, false);
    }

    /** Without GPTQ. */
    public Precision(Scheme scheme, int blockSize, boolean affine, boolean mse, boolean ffn8) {
        this(scheme, blockSize, affine, mse, ffn8, false);
    }

    public Precision {
        boolean blockwise = scheme == Scheme.INT8_BLOCK || scheme == Scheme.INT4_BLOCK;
        if (blockwise && blockSize != 32 && blockSize != 64 && blockSize != 128) {
            throw new IllegalArgumentException("block size must be 32, 64 or 128, got " + blockSize);
        }
        if (!blockwise && blockSize != 0) {
            throw new IllegalArgumentException(scheme + " has no block size, got " + blockSize);
        }
        if (!blockwise && mse) {
            throw new IllegalArgumentException("the -mse clip search applies to block-wise int8/int4 only, not " + scheme);
        }
        if (gptq && !blockwise) {
            throw new IllegalArgumentException("-gptq (error compensation with calibration inputs) applies to block-wise "
                    + "int8/int4 only, not " + scheme);
        }
        if (gptq && mse) {
            throw new IllegalArgumentException("-gptq and -mse are two ways to fit the same scales; pick one");
        }
        if (ffn8 && scheme != Scheme.INT4_BLOCK) {
            throw new IllegalArgumentException("the -ffn8 override (FFN input projections at int8) applies to int4 "
                    + "block-wise precisions only, such as int4-block32-affine-ffn8, not " + scheme);
        }
    }

    /**
     * Reads a short id ({@link #id()}), in any case.
     *
     * @throws UnknownPrecisionException when {@code text} is in none of the forms
     * @throws IllegalArgumentException naming the wrong part of a known form (a block size, {@code -ffn8} on int8, ...)
     */
    public static Precision parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        switch (t) {
            case "fp32": return FP32;
            case "fp16": return FP16;
            case "int8-channel": return INT8_CHANNEL;
            case "w8a8": return new Precision(Scheme.W8A8, 0, false);
            case "w8a8-affine": return new Precision(Scheme.W8A8, 0, true);
            default:
                Matcher m = BLOCK.matcher(t);
                if (m.matches()) {
                    Scheme s = m.group(1).equals("8") ? Scheme.INT8_BLOCK : Scheme.INT4_BLOCK;
                    if (s == Scheme.INT8_BLOCK && m.group(5) != null) {
                        throw new IllegalArgumentException("precision '" + text + "': the -ffn8 override keeps the FFN "
                                + "input projections of an int4 variant at int8; an int8 variant has them at int8 already, "
                                + "drop -ffn8 (or use int4-block" + m.group(2) + (m.group(3) != null ? "-affine" : "")
                                + m.group(4) + "-ffn8)");
                    }
                    String fit = m.group(4);
                    if (fit.equals("-mse-mse") || fit.equals("-gptq-gptq")) {
                        throw new IllegalArgumentException("precision '" + text + "' names its scale fit twice");
                    }
                    return new Precision(s, Integer.parseInt(m.group(2)), m.group(3) != null, fit.contains("-mse"),
                            m.group(5) != null, fit.contains("-gptq"));
                }
                throw new UnknownPrecisionException("unknown precision '" + text + "': use fp32, fp16, int8-channel, "
                        + "int8-block{32,64,128}[-affine][-mse|-gptq], int4-block{32,64,128}[-affine][-mse|-gptq][-ffn8] or w8a8[-affine]");
        }
    }

    /** The short id, the inverse of {@link #parse}. */
    public String id() {
        switch (scheme) {
            case FP32: return "fp32";
            case FP16: return "fp16";
            case INT8_CHANNEL: return "int8-channel";
            case W8A8: return affine ? "w8a8-affine" : "w8a8";
            default:
                return (scheme == Scheme.INT8_BLOCK ? "int8" : "int4") + "-block" + blockSize + (affine ? "-affine" : "")
                        + (mse ? "-mse" : "") + (gptq ? "-gptq" : "") + (ffn8 ? "-ffn8" : "");
        }
    }

    /**
     * The precision of the FFN input projections: int8 block-wise with this block size, mode and fit
     * under {@link #ffn8()}, else this precision itself.
     */
    public Precision ffnInput() {
        return ffn8 ? new Precision(Scheme.INT8_BLOCK, blockSize, affine, mse, false, gptq) : this;
    }

    /**
     * The registry's coarse precision name: {@code fp32}, {@code fp16}, {@code int8} (per-channel and
     * block-wise), {@code int4} or {@code w8a8} (both activation modes); the block size and
     * {@link #registryQuantization()} complete it.
     */
    public String family() {
        switch (scheme) {
            case FP32: return "fp32";
            case FP16: return "fp16";
            case W8A8: return "w8a8";
            case INT4_BLOCK: return "int4";
            default: return "int8";
        }
    }

    /**
     * Block-wise schemes only: {@code symmetric}, {@code affine}, {@code symmetric-mse} or
     * {@code affine-mse} (clip-searched scales), {@code symmetric-gptq} or {@code affine-gptq} (GPTQ), each
     * int4 one also with {@code -ffn8} (FFN inputs at int8): the registry's {@code quantization}; null for
     * the others (per-channel int8's mode is fixed by its scheme).
     */
    public String blockQuantization() {
        if (scheme != Scheme.INT8_BLOCK && scheme != Scheme.INT4_BLOCK) return null;
        return (affine ? "affine" : "symmetric") + (mse ? "-mse" : "") + (gptq ? "-gptq" : "") + (ffn8 ? "-ffn8" : "");
    }

    /**
     * The registry's {@code quantization}: {@link #blockQuantization()} for block-wise schemes, {@code affine} for
     * {@code w8a8-affine} (V35: the one value the column takes without a block size, W8A8's activation mode), null for
     * the others ({@code w8a8}'s symmetric activations, like per-channel int8's mode, are its scheme's default: rows
     * registered before V35 keep meaning what they meant).
     */
    public String registryQuantization() {
        if (scheme == Scheme.W8A8) return affine ? "affine" : null;
        return blockQuantization();
    }

    /**
     * The inverse of {@link #family()}, {@link #blockSize()} and {@link #registryQuantization()}: the
     * precision the registry's three fields describe ({@code int8} without a block size is per-channel,
     * {@code w8a8} with quantization {@code affine} is {@code w8a8-affine}).
     *
     * @throws IllegalArgumentException when the fields do not describe a precision
     */
    public static Precision ofRegistry(String family, Integer blockSize, String quantization) {
        if (family == null) {
            throw new IllegalArgumentException("precision is required");
        }
        if (blockSize == null) {
            if ("w8a8".equals(family) && quantization != null) {
                if (quantization.equals("affine")) return new Precision(Scheme.W8A8, 0, true);
                throw new IllegalArgumentException("quantization '" + quantization + "' of w8a8 must be affine (int8 "
                        + "activations with zero points: w8a8-affine) or absent (symmetric activations: w8a8)");
            }
            if (quantization != null) {
                throw new IllegalArgumentException("quantization '" + quantization + "' needs a block size (without one,"
                        + " only w8a8 takes a quantization: affine)");
            }
            return parse("int8".equals(family) ? "int8-channel" : family);
        }
        String q = quantization == null ? "symmetric" : quantization;
        boolean ffn8 = q.endsWith("-ffn8");
        String mode = ffn8 ? q.substring(0, q.length() - "-ffn8".length()) : q;
        String suffix = switch (mode) {
            case "symmetric" -> "";
            case "affine" -> "-affine";
            case "symmetric-mse" -> "-mse";
            case "affine-mse" -> "-affine-mse";
            case "symmetric-gptq" -> "-gptq";
            case "affine-gptq" -> "-affine-gptq";
            default -> throw new IllegalArgumentException("quantization '" + quantization
                    + "' must be symmetric, affine, symmetric-mse, affine-mse, symmetric-gptq or affine-gptq, for int4"
                    + " optionally with -ffn8");
        };
        if (ffn8 && !"int4".equals(family)) {
            throw new IllegalArgumentException("quantization '" + quantization + "' (FFN inputs at int8) applies to "
                    + "int4 only, not " + family);
        }
        return parse(family + "-block" + blockSize + suffix + (ffn8 ? "-ffn8" : ""));
    }

    /**
     * True when the conversion needs what the model computes on calibration texts ({@code io.aneforge.convert.Calibration}):
     * GPTQ's statistics, or {@code w8a8}'s activation ranges.
     */
    public boolean calibrated() {
        return gptq || scheme == Scheme.W8A8;
    }

    /** The oldest deployment target whose Core ML has the ops this precision needs. */
    public Target minimumTarget() {
        switch (scheme) {
            case INT8_CHANNEL: return Target.IOS16;
            case W8A8: return Target.IOS17;
            case INT8_BLOCK:
            case INT4_BLOCK: return Target.IOS18;
            default: return Target.IOS15;
        }
    }

    @Override
    public String toString() {
        return id();
    }
}
