package io.aneforge.agent.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LatencyStatsTest {

    private static long[] millisAsNanos(long... ms) {
        long[] n = new long[ms.length];
        for (int i = 0; i < ms.length; i++) {
            n[i] = ms[i] * 1_000_000L;
        }
        return n;
    }

    @Test
    void nearestRankOnOneToHundred() {
        long[] ms = new long[100];
        for (int i = 0; i < 100; i++) {
            ms[i] = 100 - i; // unsorted on purpose
        }
        LatencyStats s = LatencyStats.ofNanos(millisAsNanos(ms));

        assertThat(s.n()).isEqualTo(100);
        assertThat(s.minMs()).isEqualTo(1.0);
        assertThat(s.p50Ms()).isEqualTo(50.0);
        assertThat(s.p90Ms()).isEqualTo(90.0);
        assertThat(s.p99Ms()).isEqualTo(99.0);
        assertThat(s.maxMs()).isEqualTo(100.0);
        assertThat(s.meanMs()).isEqualTo(50.5);
        // sample stddev of 1..100 = sqrt(100*101/12) = 29.0115
        assertThat(s.stddevMs()).isCloseTo(29.011491975882016, within(1e-9));
    }

    @Test
    void nearestRankOnTenSamplesIsAlwaysAnObservedValue() {
        LatencyStats s = LatencyStats.ofNanos(millisAsNanos(7, 3, 9, 1, 5, 10, 2, 8, 4, 6));

        assertThat(s.p50Ms()).isEqualTo(5.0);  // rank ceil(5.0) = 5
        assertThat(s.p90Ms()).isEqualTo(9.0);  // rank ceil(9.0) = 9
        assertThat(s.p99Ms()).isEqualTo(10.0); // rank ceil(9.9) = 10
        assertThat(s.stddevMs()).isCloseTo(3.0276503540974917, within(1e-9));
    }

    @Test
    void nearestRankIsExactForEverySampleCount() {
        for (int n = 1; n <= 1000; n++) {
            long[] sorted = new long[n];
            for (int i = 0; i < n; i++) {
                sorted[i] = i + 1;
            }
            for (int q : new int[] {50, 90, 99, 100}) {
                // smallest rank r with r/n >= q/100, by integer comparison
                long r = 1;
                while (r * 100 < (long) q * n) {
                    r++;
                }
                assertThat(LatencyStats.nearestRank(sorted, q)).as("n=%d q=%d", n, q).isEqualTo(r);
            }
        }
    }

    @Test
    void singleSampleHasZeroSpread() {
        LatencyStats s = LatencyStats.ofNanos(new long[] {2_500_000});

        assertThat(s.minMs()).isEqualTo(2.5);
        assertThat(s.p99Ms()).isEqualTo(2.5);
        assertThat(s.maxMs()).isEqualTo(2.5);
        assertThat(s.stddevMs()).isZero();
    }

    @Test
    void oddCountMedianAndSubMillisecondPrecision() {
        LatencyStats s = LatencyStats.ofNanos(new long[] {1_200_000, 300_000, 750_001});

        assertThat(s.p50Ms()).isEqualTo(0.750001); // rank ceil(1.5) = 2
        assertThat(s.minMs()).isEqualTo(0.3);
    }

    @Test
    void rejectsEmptySamples() {
        assertThatThrownBy(() -> LatencyStats.ofNanos(new long[0]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one sample");
    }
}
