package io.aneforge.agent.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.aneforge.agent.host.HostFacts;
import io.aneforge.runtime.LoadedModel;
import io.aneforge.runtime.ModelRuntime;
import io.aneforge.runtime.RuntimeLoadException;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.tensor.FloatTensor;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The runner under test drives a fake runtime (the runner is the unit, not the runtime). The
 * fake advances a fake nanosecond clock by scripted amounts, so the expected stats are exact.
 */
class BenchmarkRunnerTest {

    private static final HostFacts HOST = new HostFacts("bench-host", "Linux", "6.1.0", "#1 SMP", "x86_64",
            "Test CPU", 8L << 30, null, List.of("fake"));
    private static final Map<String, FloatTensor> INPUTS =
            Map.of("input_ids", new FloatTensor(new int[] {1, 4}, new float[] {101, 7592, 2088, 102}));
    private static final Instant START = Instant.parse("2026-03-01T12:00:00Z");

    /** Scripted fake: load and each prediction advance {@code clock} by the next scripted nanos. */
    static class ScriptedRuntime implements ModelRuntime {
        final AtomicLong clock;
        final long loadNanos;
        final Deque<Long> predictNanos;
        final AtomicInteger predictions = new AtomicInteger();
        final AtomicBoolean closed = new AtomicBoolean();
        boolean available = true;
        RuntimeOptions seenOptions;

        ScriptedRuntime(AtomicLong clock, long loadNanos, List<Long> predictNanos) {
            this.clock = clock;
            this.loadNanos = loadNanos;
            this.predictNanos = new ArrayDeque<>(predictNanos);
        }

        @Override
        public String id() {
            return "fake";
        }

        @Override
        public String version() {
            return "fake-1.0";
        }

        @Override
        public boolean isAvailable() {
            return available;
        }

        @Override
        public LoadedModel load(Path mlpackage, RuntimeOptions options) {
            seenOptions = options;
            clock.addAndGet(loadNanos);
            return new LoadedModel() {
                @Override
                public Map<String, FloatTensor> predict(Map<String, FloatTensor> inputs) {
                    Long step = predictNanos.poll();
                    if (step == null) {
                        throw new IllegalStateException("script exhausted after " + predictions.get() + " predictions");
                    }
                    clock.addAndGet(step);
                    predictions.incrementAndGet();
                    float[] ids = inputs.get("input_ids").data();
                    return Map.of("pooled", new FloatTensor(new int[] {1, 1}, new float[] {ids[1] / 2f}));
                }

                @Override
                public void close() {
                    closed.set(true);
                }
            };
        }
    }

    static final class FixedMemory implements PeakMemory {
        final boolean resettable;
        int resets;

        FixedMemory(boolean resettable) {
            this.resettable = resettable;
        }

        @Override
        public long peakBytes() {
            return 123L << 20;
        }

        @Override
        public boolean resetPeak() {
            resets++;
            return resettable;
        }
    }

    private static long ms(double v) {
        return (long) (v * 1_000_000);
    }

    @Test
    void measuresLoadFirstWarmupAndTimedWithExactStats() {
        AtomicLong clock = new AtomicLong(5_000_000_000L);
        // first 30 ms, two warm-ups of 5 ms, then timed 1..10 ms in shuffled order
        List<Long> script = List.of(ms(30), ms(5), ms(5), ms(4), ms(9), ms(1), ms(10), ms(2), ms(7), ms(3), ms(8),
                ms(6), ms(5));
        ScriptedRuntime runtime = new ScriptedRuntime(clock, ms(250), script);
        FixedMemory memory = new FixedMemory(true);
        BenchmarkRunner runner = new BenchmarkRunner(memory, clock::get, Clock.fixed(START, ZoneOffset.UTC));
        RuntimeOptions options = new RuntimeOptions("cpuOnly", true, 2);
        BenchmarkProtocol protocol = new BenchmarkProtocol(2, 10, Duration.ofMinutes(1));

        BenchmarkRun run = runner.run(runtime, Path.of("/cache/m.mlpackage"), "sha256:" + "a".repeat(64), INPUTS,
                options, protocol, HOST);
        BenchmarkResult r = run.result();

        assertThat(r.loadMs()).isEqualTo(250.0);
        assertThat(r.firstPredictionMs()).isEqualTo(30.0);
        assertThat(r.warmupIterationsRun()).isEqualTo(2);
        assertThat(r.stoppedByMaxDuration()).isFalse();
        LatencyStats s = r.latency();
        assertThat(s.n()).isEqualTo(10);
        assertThat(s.minMs()).isEqualTo(1.0);
        assertThat(s.p50Ms()).isEqualTo(5.0);
        assertThat(s.p90Ms()).isEqualTo(9.0);
        assertThat(s.p99Ms()).isEqualTo(10.0);
        assertThat(s.maxMs()).isEqualTo(10.0);
        assertThat(s.meanMs()).isEqualTo(5.5);
        assertThat(s.stddevMs()).isCloseTo(3.0276503540974917, within(1e-9));
        assertThat(runtime.predictions).hasValue(13);
        assertThat(runtime.closed).isTrue();
        assertThat(runtime.seenOptions).isEqualTo(options);
        assertThat(memory.resets).isEqualTo(1);
        assertThat(r.peakResidentBytes()).isEqualTo(123L << 20);
        assertThat(r.peakResidentSinceLoad()).isTrue();
        assertThat(run.firstOutputs().get("pooled").data()).containsExactly(7592 / 2f);

        Provenance p = r.provenance();
        assertThat(p.host()).isEqualTo(HOST);
        assertThat(p.runtimeId()).isEqualTo("fake");
        assertThat(p.runtimeVersion()).isEqualTo("fake-1.0");
        assertThat(p.options().computeUnits()).isEqualTo("cpuOnly");
        assertThat(p.artifactDigest()).isEqualTo("sha256:" + "a".repeat(64));
        assertThat(p.startedAt()).isEqualTo(START);
        assertThat(r.protocol()).isEqualTo(protocol);
    }

    @Test
    void stopsAtTheTimeBudgetButTimesAtLeastOnePrediction() {
        AtomicLong clock = new AtomicLong();
        // first 1 ms; warm-ups 5 + 5 ms (budget 20 ms starts after the first); timed 4 ms each
        ScriptedRuntime runtime = new ScriptedRuntime(clock, ms(1),
                List.of(ms(1), ms(5), ms(5), ms(4), ms(4), ms(4), ms(4), ms(4), ms(4)));
        BenchmarkRunner runner = new BenchmarkRunner(new FixedMemory(false), clock::get, Clock.systemUTC());

        BenchmarkResult r = runner.run(runtime, Path.of("m.mlpackage"), null, INPUTS, RuntimeOptions.defaults(),
                new BenchmarkProtocol(2, 100, Duration.ofMillis(20)), HOST).result();

        // timed predictions start at 10, 14, 18 ms; at 22 ms the budget is spent
        assertThat(r.latency().n()).isEqualTo(3);
        assertThat(r.stoppedByMaxDuration()).isTrue();
        assertThat(r.peakResidentSinceLoad()).isFalse();

        AtomicLong clock2 = new AtomicLong();
        ScriptedRuntime slow = new ScriptedRuntime(clock2, 0, List.of(ms(1), ms(50), ms(7)));
        BenchmarkResult r2 = new BenchmarkRunner(new FixedMemory(false), clock2::get, Clock.systemUTC())
                .run(slow, Path.of("m.mlpackage"), null, INPUTS, RuntimeOptions.defaults(),
                        new BenchmarkProtocol(5, 10, Duration.ofMillis(20)), HOST).result();
        assertThat(r2.warmupIterationsRun()).isEqualTo(1);
        assertThat(r2.latency().n()).isEqualTo(1);
        assertThat(r2.latency().p50Ms()).isEqualTo(7.0);
    }

    @Test
    void realClockStatsKeepTheirInvariants() {
        ModelRuntime sleepy = new ModelRuntime() {
            @Override
            public String id() {
                return "sleepy";
            }

            @Override
            public String version() {
                return "1";
            }

            @Override
            public boolean isAvailable() {
                return true;
            }

            @Override
            public LoadedModel load(Path mlpackage, RuntimeOptions options) {
                sleep(20);
                return new LoadedModel() {
                    int calls;

                    @Override
                    public Map<String, FloatTensor> predict(Map<String, FloatTensor> inputs) {
                        sleep(1 + (calls++ % 3));
                        return Map.of();
                    }

                    @Override
                    public void close() {}
                };
            }
        };
        BenchmarkResult r = new BenchmarkRunner(PeakMemory.forCurrentOs()).run(sleepy, Path.of("m.mlpackage"), null,
                INPUTS, RuntimeOptions.defaults(), new BenchmarkProtocol(2, 12, Duration.ofSeconds(30)), HOST).result();

        LatencyStats s = r.latency();
        assertThat(r.loadMs()).isGreaterThanOrEqualTo(20.0);
        assertThat(s.n()).isEqualTo(12);
        assertThat(s.minMs()).isGreaterThanOrEqualTo(1.0);
        assertThat(s.minMs()).isLessThanOrEqualTo(s.p50Ms());
        assertThat(s.p50Ms()).isLessThanOrEqualTo(s.p90Ms());
        assertThat(s.p90Ms()).isLessThanOrEqualTo(s.p99Ms());
        assertThat(s.p99Ms()).isLessThanOrEqualTo(s.maxMs());
        assertThat(s.meanMs()).isBetween(s.minMs(), s.maxMs());
        assertThat(s.stddevMs()).isPositive();
        if (System.getProperty("os.name").startsWith("Linux")) {
            assertThat(r.peakResidentBytes()).isGreaterThan(16L << 20);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Test
    void failuresNameRuntimePackageAndStep() {
        AtomicLong clock = new AtomicLong();
        BenchmarkRunner runner = new BenchmarkRunner(new FixedMemory(false), clock::get, Clock.systemUTC());
        ScriptedRuntime unavailable = new ScriptedRuntime(clock, 0, List.of());
        unavailable.available = false;
        assertThatThrownBy(() -> runner.run(unavailable, Path.of("m.mlpackage"), null, INPUTS,
                RuntimeOptions.defaults(), BenchmarkProtocol.defaults(), HOST))
                .isInstanceOf(BenchmarkException.class)
                .hasMessageContaining("runtime 'fake' is not available on host bench-host");

        ScriptedRuntime exhausted = new ScriptedRuntime(clock, 0, List.of(ms(1), ms(1)));
        assertThatThrownBy(() -> runner.run(exhausted, Path.of("m.mlpackage"), null, INPUTS,
                RuntimeOptions.defaults(), new BenchmarkProtocol(3, 5, Duration.ofMinutes(1)), HOST))
                .isInstanceOf(BenchmarkException.class)
                .hasMessageContaining("failed the warm-up 2 prediction of m.mlpackage");
        assertThat(exhausted.closed).isTrue();

        ModelRuntime broken = new ScriptedRuntime(clock, 0, List.of()) {
            @Override
            public LoadedModel load(Path mlpackage, RuntimeOptions options) {
                throw new RuntimeLoadException(mlpackage + ": Manifest.json is missing");
            }
        };
        assertThatThrownBy(() -> runner.run(broken, Path.of("x.mlpackage"), null, INPUTS,
                RuntimeOptions.defaults(), BenchmarkProtocol.defaults(), HOST))
                .isInstanceOf(BenchmarkException.class)
                .hasMessageContaining("could not load x.mlpackage: x.mlpackage: Manifest.json is missing");
    }

    @Test
    void protocolRejectsNonsense() {
        assertThatThrownBy(() -> new BenchmarkProtocol(0, 0, Duration.ofSeconds(1)))
                .hasMessageContaining("timedIterations must be >= 1");
        assertThatThrownBy(() -> new BenchmarkProtocol(-1, 1, Duration.ofSeconds(1)))
                .hasMessageContaining("warmupIterations must be >= 0");
        assertThatThrownBy(() -> new BenchmarkProtocol(0, 1, Duration.ZERO))
                .hasMessageContaining("maxDuration must be positive");
    }
}
