package io.aneforge.gate;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * Number formatting for gate messages: a limit is printed as written ({@code 0.999},
 * {@code 3.0}); a value gets the fewest decimals (from a minimum) that keep the printed
 * comparison true, so a message never reads "3.0 ms > 3.0 ms".
 */
final class Numbers {
    private Numbers() {
    }

    static String limit(double v) {
        BigDecimal d = BigDecimal.valueOf(v).stripTrailingZeros();
        return d.scale() < 1 ? d.setScale(1, RoundingMode.UNNECESSARY).toPlainString() : d.toPlainString();
    }

    /** {@code value} with at least {@code minDecimals}, more while its rounding would tie with or cross {@code limit}. */
    static String value(double value, double limit, int minDecimals) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            return String.valueOf(value);
        }
        int cmp = Double.compare(value, limit);
        BigDecimal lim = BigDecimal.valueOf(limit);
        for (int d = minDecimals; d <= 12; d++) {
            BigDecimal r = BigDecimal.valueOf(value).setScale(d, RoundingMode.HALF_EVEN);
            if (Integer.signum(r.compareTo(lim)) == Integer.signum(cmp)) {
                return r.toPlainString();
            }
        }
        return BigDecimal.valueOf(value).toPlainString();
    }

    static String fixed(double value, int decimals) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            return String.valueOf(value);
        }
        return BigDecimal.valueOf(value).setScale(decimals, RoundingMode.HALF_EVEN).toPlainString();
    }
}
