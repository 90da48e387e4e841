package io.aneforge.graph;

import io.aneforge.quant.ActivationRange;
import io.aneforge.quant.CalibrationInputs;
import io.aneforge.quant.EncodedWeight;
import io.aneforge.quant.QuantReport;
import io.aneforge.quant.QuantSpec;
import io.aneforge.quant.WeightQuantizer;
import io.aneforge.tensor.FloatTensor;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Encoded weights shared by the variants of one conversion. Variants that store a tensor the same way
 * (the same source array, the same quantization spec) get the same bytes: the default recipe's ane and
 * standard fp16 variants have byte-identical {@code weight.bin}, and variants that differ only in their
 * chip have identical programs, so each distinct encoding is computed once and the variants share its
 * arrays (read-only, as every {@link io.aneforge.mil.Constant} is).
 *
 * <p>Keys are the source {@code float[]} by identity (the imported model's arrays; a layout that copied or
 * transposed a tensor simply misses), the tensor name (it is part of the report) and the spec. FP16 encoding
 * is element-wise, so its key ignores the shape (the ane layout's {@code [o, i, 1, 1]} and the standard
 * {@code [o, i]} share); other specs group elements along an axis and key on the shape too. Thread-safe:
 * variants build in parallel, and a variant that asks for an encoding another is computing waits for it
 * instead of computing it again. Entries live as long as the cache: one conversion (the programs hold the
 * same arrays until they are written anyway; the cache adds what finished variants no longer need).
 */
public final class WeightCache {
    private static final WeightCache NONE = new WeightCache(false, null);

    private final boolean enabled;
    private final ConcurrentHashMap<Key, CompletableFuture<Object>> entries = new ConcurrentHashMap<>();
    /** Measures the calibration statistics, once, when the first GPTQ weight asks; null: none available. */
    private final Supplier<CalibrationInputs> calibration;
    private CalibrationInputs measured;

    private WeightCache(boolean enabled, Supplier<CalibrationInputs> calibration) {
        this.enabled = enabled;
        this.calibration = calibration;
    }

    /** A cache for the variants of one conversion. */
    public static WeightCache create() {
        return new WeightCache(true, null);
    }

    /**
     * A cache for the variants of one conversion whose {@code -gptq} variants take their calibration statistics
     * from {@code calibration}: called once, when the first GPTQ weight is encoded (conversions without such a
     * variant never run it). The same statistics for every variant, so GPTQ encodings are shared like the others.
     */
    public static WeightCache create(Supplier<CalibrationInputs> calibration) {
        if (calibration == null) {
            throw new IllegalArgumentException("calibration is required (use create() for none)");
        }
        return new WeightCache(true, calibration);
    }

    /** No sharing, with calibration statistics at hand for {@code -gptq} variants. */
    public static WeightCache uncached(CalibrationInputs calibration) {
        if (calibration == null) {
            throw new IllegalArgumentException("calibration is required (use none() for none)");
        }
        return new WeightCache(false, () -> calibration);
    }

    /**
     * The calibration statistics' fingerprint ({@link CalibrationInputs#fingerprint()}) for a GPTQ variant's metadata;
     * measures them if no weight has yet.
     */
    String calibrationFingerprint(String variant) {
        return calibration(variant, null).fingerprint();
    }

    /**
     * What calibration saw at the input of {@code weightName} (W8A8's activation scales), or null when no calibration
     * input reached it; measures the statistics if nothing has yet.
     */
    ActivationRange activationRange(String variant, String weightName) {
        return calibration(variant, null).range(weightName);
    }

    private synchronized CalibrationInputs calibration(String name, QuantSpec spec) {
        if (calibration == null) {
            throw new GraphException((spec == null ? "variant " + name + " is calibrated (GPTQ or W8A8)"
                    : "weight '" + name + "' is to be quantized " + spec.label()) + ", which needs "
                    + "calibration statistics, and this conversion has none: convert through the CLI or the converter "
                    + "worker (they measure them on the model's tokenizer), or pass a WeightCache created with them "
                    + "(io.aneforge.convert.Calibration)");
        }
        if (measured == null) {
            measured = calibration.get();
        }
        return measured;
    }

    /** No sharing: every call encodes (a single variant has nothing to share). */
    public static WeightCache none() {
        return NONE;
    }

    /** FP16 bytes (little-endian, a constant's raw form) and the report of one tensor. */
    record Fp16(byte[] raw, QuantReport report) {
    }

    /** Another spec's encoding and report. */
    record Encoded(EncodedWeight weight, QuantReport report) {
    }

    private record Key(String name, Object data, String shape, QuantSpec spec) {
        @Override
        public boolean equals(Object o) {
            // identity of the source array: equal contents in a different array is a different tensor here
            return o instanceof Key k && k.data == data && k.name.equals(name) && k.shape.equals(shape) && k.spec.equals(spec);
        }

        @Override
        public int hashCode() {
            return ((System.identityHashCode(data) * 31 + name.hashCode()) * 31 + shape.hashCode()) * 31 + spec.hashCode();
        }
    }

    Fp16 fp16(String name, FloatTensor source, Supplier<Fp16> encode) {
        return (Fp16) get(new Key(name, source.data(), "", QuantSpec.fp16()), encode::get);
    }

    Encoded encoded(String name, FloatTensor shaped, QuantSpec spec) {
        return (Encoded) get(new Key(name, shaped.data(), Arrays.toString(shaped.shape()), spec), () -> {
            WeightQuantizer.Result r = spec.scaleFit() == QuantSpec.ScaleFit.GPTQ
                    ? WeightQuantizer.encode(name, shaped, spec, calibration(name, spec).of(name))
                    : WeightQuantizer.encode(name, shaped, spec);
            return new Encoded(r.weight(), r.report());
        });
    }

    private Object get(Key key, Supplier<Object> compute) {
        if (!enabled) {
            return compute.get();
        }
        CompletableFuture<Object> mine = new CompletableFuture<>();
        CompletableFuture<Object> theirs = entries.putIfAbsent(key, mine);
        if (theirs != null) {
            try {
                return theirs.join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e;
            }
        }
        try {
            Object v = compute.get();
            mine.complete(v);
            return v;
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        }
    }
}
