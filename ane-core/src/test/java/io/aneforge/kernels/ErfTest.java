package io.aneforge.kernels;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.MathContext;

import static org.assertj.core.api.Assertions.assertThat;

class ErfTest {

    private static final MathContext MC = new MathContext(80);
    /** 2/√π to 60 digits. */
    private static final BigDecimal TWO_OVER_SQRT_PI = new BigDecimal("1.12837916709551257389615890312154517168810125865799771368817");

    /** erf by its Maclaurin series in 80-digit decimal arithmetic (no cancellation problem at this precision). */
    private static BigDecimal erfReference(double x) {
        BigDecimal bx = new BigDecimal(x);
        BigDecimal x2 = bx.multiply(bx, MC).negate();
        BigDecimal term = bx;
        BigDecimal sum = bx;
        for (int n = 1; n < 2000; n++) {
            term = term.multiply(x2, MC).divide(BigDecimal.valueOf(n), MC);
            BigDecimal t = term.divide(BigDecimal.valueOf(2L * n + 1), MC);
            sum = sum.add(t, MC);
            if (t.abs().compareTo(new BigDecimal("1e-60")) < 0 && n > 2 * x * x) {
                break;
            }
        }
        return sum.multiply(TWO_OVER_SQRT_PI, MC);
    }

    @Test
    void erfAndErfcMatchTheHighPrecisionReference() {
        double worstErf = 0;
        double worstErfc = 0;
        for (int i = -600; i <= 600; i++) {
            double x = i / 100.0 + 0.003; // avoid hitting only round numbers
            BigDecimal ref = erfReference(x);
            double erf = ref.doubleValue();
            double erfc = BigDecimal.ONE.subtract(ref, MC).doubleValue();
            worstErf = Math.max(worstErf, Math.abs(Erf.erf(x) - erf) / Math.abs(erf));
            worstErfc = Math.max(worstErfc, Math.abs(Erf.erfc(x) - erfc) / erfc);
            // the float version is the correctly rounded reference or one float ulp away
            float f = Erf.erf((float) x);
            float expected = erfReference((float) x).floatValue();
            assertThat(Math.abs(f - expected)).as("erf(%s)", (float) x).isLessThanOrEqualTo(Math.ulp(expected));
        }
        assertThat(worstErf).isLessThan(1e-13);
        assertThat(worstErfc).isLessThan(1e-12);
    }

    @Test
    void specialValues() {
        assertThat(Erf.erf(0.0)).isZero();
        assertThat(Erf.erf(Double.POSITIVE_INFINITY)).isEqualTo(1.0);
        assertThat(Erf.erf(Double.NEGATIVE_INFINITY)).isEqualTo(-1.0);
        assertThat(Erf.erf(Double.NaN)).isNaN();
        assertThat(Erf.erfc(30)).isZero();
        assertThat(Erf.erfc(-30)).isEqualTo(2.0);
        assertThat(Erf.erf(1e-30)).isEqualTo(1e-30 * 1.1283791670955126);
    }

    @Test
    void geluMatchesItsDefinitions() {
        assertThat(Activations.geluExact(0f)).isZero();
        assertThat(Activations.geluExact(1f)).isCloseTo(0.8413447460685429f, org.assertj.core.data.Offset.offset(1e-7f));
        // Far negative tail: x·Φ(x) with Φ(-6) = 9.865876450376946e-10, relative accuracy kept.
        assertThat((double) Activations.geluExact(-6f)).isCloseTo(-6 * 9.865876450376946e-10,
                org.assertj.core.data.Percentage.withPercentage(1e-4));
        assertThat(Activations.geluTanh(1f)).isCloseTo(0.8411920f, org.assertj.core.data.Offset.offset(1e-6f));
        assertThat(Activations.geluTanh(-10f)).isCloseTo(0f, org.assertj.core.data.Offset.offset(1e-6f));
    }
}
