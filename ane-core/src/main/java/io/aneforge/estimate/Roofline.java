package io.aneforge.estimate;

import io.aneforge.chips.Chip;
import io.aneforge.chips.ChipCatalog;
import io.aneforge.mil.Program;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Roofline latency range from a {@link ProgramCost} and a chip's published figures.
 *
 * <p>{@code low = max(flops / (aneTops * 1e12), bytes / (bandwidth GB/s * 1e9))}: the time if
 * the Neural Engine ran at its published peak or the memory bus at its published
 * bandwidth, whichever is slower. {@code high = low / }{@value #ACHIEVABLE_EFFICIENCY}.
 *
 * <p>Why 0.3: Apple's own ANE-optimized distilbert (6 layers, hidden 768, sequence 128,
 * batch 1) runs in 3.47 ms on iPhone 13 / A15 ("Deploying Transformers on the Apple Neural
 * Engine", Apple ML Research, 2022), and Apple notes the ANE is "far from being saturated"
 * there. Its ~11.2 GFLOPs and ~86 MB of fp16 weights give a roofline of 2.5 ms on A15
 * (memory-bound at 34 GB/s), i.e. about 70 % of the roofline for a carefully laid-out
 * model; the unoptimized Hub layout was about 10x slower. 0.3 leaves room for graphs
 * that fuse less well, partial CPU fallback and per-prediction dispatch overhead, while
 * keeping the range narrow enough to rank variants. The calibration test pins that
 * Apple's measurement falls inside the range. Not modelled: dispatch overhead (it
 * dominates sub-millisecond models), thermal throttling, other work on the chip.
 *
 * <p>Caveats of the inputs: {@code aneTops} is Apple's marketing figure; for A17 Pro and M4
 * it is widely believed to count int8 operations, so fp16 variants may only reach about
 * half of it there. Bandwidth figures marked third-party or derived in the catalog are not
 * Apple's. When a chip's bandwidth is unknown the estimate uses compute only and says so.
 */
public final class Roofline {
    /** Fraction of the roofline a real deployment is assumed to reach at worst (see class doc). */
    public static final double ACHIEVABLE_EFFICIENCY = 0.3;

    private Roofline() {
    }

    public static LatencyEstimate estimate(Program program, Chip chip) {
        return estimate(CostCounter.count(program), chip);
    }

    /** The estimate for a chip named by its catalog id (as in {@code VariantSpec.chip()}). */
    public static LatencyEstimate estimate(Program program, String chipId, ChipCatalog catalog) {
        Chip chip = catalog.chip(chipId).orElseThrow(() -> new IllegalArgumentException("chip '" + chipId
                + "' is not in the chip catalog " + catalog.chips().stream().map(Chip::id).toList()
                + "; add a row to chips.psv or use a catalog id"));
        return estimate(program, chip);
    }

    /** One estimate per chip of the catalog, in catalog order. */
    public static List<LatencyEstimate> estimateAll(Program program, ChipCatalog catalog) {
        ProgramCost cost = CostCounter.count(program);
        List<LatencyEstimate> out = new ArrayList<>();
        for (Chip c : catalog.chips()) {
            out.add(estimate(cost, c));
        }
        return out;
    }

    public static LatencyEstimate estimate(ProgramCost cost, Chip chip) {
        double computeMs = cost.flops() / (chip.aneTops() * 1e12) * 1e3;
        Double bw = chip.memoryBandwidthGBs();
        StringBuilder basis = new StringBuilder();
        basis.append(String.format(Locale.ROOT, "%s GFLOP at %s TOPS (Apple, Neural Engine peak) = %s ms",
                num(cost.flops() / 1e9), num(chip.aneTops()), num(computeMs)));
        double low;
        Bound bound;
        if (bw == null) {
            low = computeMs;
            bound = Bound.COMPUTE;
            basis.append(String.format(Locale.ROOT, "; memory bandwidth of %s unknown, so this estimate uses compute only"
                    + " and is too low if the model is memory-bound (%s MB moved)", chip.id(), num(cost.bytes() / 1e6)));
        } else {
            double memoryMs = cost.bytes() / (bw * 1e9) * 1e3;
            basis.append(String.format(Locale.ROOT, "; %s MB moved (%s MB weights at stored size, %s MB fp16 activations)"
                            + " at %s GB/s (%s) = %s ms", num(cost.bytes() / 1e6), num(cost.weightBytes() / 1e6),
                    num(cost.activationBytes() / 1e6), num(bw), chip.bandwidthBasis(), num(memoryMs)));
            bound = memoryMs > computeMs ? Bound.MEMORY : Bound.COMPUTE;
            low = Math.max(memoryMs, computeMs);
        }
        double high = low / ACHIEVABLE_EFFICIENCY;
        basis.append(String.format(Locale.ROOT, "; %s-bound; range = roofline .. roofline / %s achievable efficiency",
                bound.name().toLowerCase(Locale.ROOT), num(ACHIEVABLE_EFFICIENCY)));
        return new LatencyEstimate(chip.id(), cost.flops(), cost.bytes(), low, high, bound, basis.toString());
    }

    /** Three significant digits, no exponent: enough to read, stable for tests. */
    static String num(double v) {
        if (v == 0) {
            return "0";
        }
        java.math.BigDecimal d = new java.math.BigDecimal(v).round(new java.math.MathContext(3));
        return d.stripTrailingZeros().toPlainString();
    }
}
