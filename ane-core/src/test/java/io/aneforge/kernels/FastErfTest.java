package io.aneforge.kernels;

import io.aneforge.tensor.FloatTensor;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The float-only erf and GELU against the double-precision references. */
class FastErfTest {

    @Test
    void erfFastIsWithinOneMillionthEverywhere() {
        double worst = 0;
        for (float x = -10f; x <= 10f; x += 1e-3f) {
            worst = Math.max(worst, Math.abs(Erf.erfFast(x) - Erf.erf((double) x)));
        }
        assertThat(worst).isLessThan(1e-6);
        assertThat(Erf.erfFast(0f)).isZero();
        assertThat(Erf.erfFast(50f)).isEqualTo(1f);
        assertThat(Erf.erfFast(-50f)).isEqualTo(-1f);
        assertThat(Erf.erfFast(1e-6f)).isCloseTo((float) Erf.erf(1e-6), org.assertj.core.api.Assertions.within(1e-12f));
    }

    @Test
    void geluErfFastMatchesExactGelu() {
        int n = 20001;
        float[] xs = new float[n];
        for (int i = 0; i < n; i++) {
            xs[i] = -10f + i * 1e-3f;
        }
        FloatTensor x = new FloatTensor(new int[]{n}, xs);
        float[] fast = Activations.geluErfFast(x).data();
        for (int i = 0; i < n; i++) {
            float exact = Activations.geluExact(xs[i]);
            assertThat(fast[i]).as("gelu(%s)", xs[i]).isCloseTo(exact, org.assertj.core.api.Assertions.within(1e-6f * (1 + Math.abs(xs[i]))));
        }
    }
}
