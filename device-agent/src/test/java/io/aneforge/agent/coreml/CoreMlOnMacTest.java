package io.aneforge.agent.coreml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.aneforge.agent.bench.BenchmarkProtocol;
import io.aneforge.agent.bench.BenchmarkResult;
import io.aneforge.agent.bench.BenchmarkRunner;
import io.aneforge.agent.bench.PeakMemory;
import io.aneforge.agent.host.HostProbe;
import io.aneforge.runtime.LoadedModel;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.tensor.FloatTensor;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real Core ML bridge on a real package. Runs only on macOS/Apple silicon; it has not
 * run yet (the project's CI is Linux) — this is the first thing to run on a Mac. The fixture
 * uses the iOS 18 opset, so it needs macOS 15 or later.
 */
@EnabledOnOs(OS.MAC)
@EnabledIfSystemProperty(named = "os.arch", matches = "aarch64")
class CoreMlOnMacTest {

    @TempDir
    Path dir;

    static Path fixture() throws URISyntaxException {
        return Path.of(CoreMlOnMacTest.class.getResource("/coreml/tiny_fp16.mlpackage").toURI());
    }

    private static Map<String, FloatTensor> input() {
        Random random = new Random(42);
        float[] x = new float[4 * 64];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return Map.of("x", new FloatTensor(new int[] {1, 4, 64}, x));
    }

    @Test
    void predictsSoftmaxRowsOnEveryComputeUnit() throws Exception {
        CoreMlRuntime runtime = new CoreMlRuntime(dir);
        assertThat(runtime.isAvailable()).isTrue();
        for (String units : RuntimeOptions.COMPUTE_UNITS) {
            try (LoadedModel model = runtime.load(fixture(), new RuntimeOptions(units, false, 0))) {
                FloatTensor out = model.predict(input()).get("out");
                assertThat(out.shape()).as(units).containsExactly(1, 4, 32);
                for (int row = 0; row < 4; row++) {
                    double sum = 0;
                    for (int c = 0; c < 32; c++) {
                        float v = out.data()[row * 32 + c];
                        assertThat(v).isBetween(0f, 1f);
                        sum += v;
                    }
                    assertThat(sum).as(units + " row " + row).isCloseTo(1.0, within(1e-2));
                }
            }
        }
    }

    @Test
    void benchmarksWithProvenance() throws Exception {
        CoreMlRuntime runtime = new CoreMlRuntime(dir);
        BenchmarkResult r = new BenchmarkRunner(PeakMemory.forCurrentOs()).run(runtime, fixture(), null, input(),
                new RuntimeOptions("cpuAndNeuralEngine", false, 0), new BenchmarkProtocol(3, 20, Duration.ofMinutes(1)),
                HostProbe.forCurrentOs().read(List.of("coreml"))).result();

        assertThat(r.latency().n()).isEqualTo(20);
        assertThat(r.provenance().runtimeVersion()).isEqualTo(r.provenance().host().osBuild());
        assertThat(r.provenance().host().chip()).isNotNull();
        assertThat(r.peakResidentBytes()).isPositive();
    }
}
