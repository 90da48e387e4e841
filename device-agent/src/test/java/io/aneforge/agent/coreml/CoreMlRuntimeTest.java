package io.aneforge.agent.coreml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.condition.OS.LINUX;

import io.aneforge.kernels.Fp16;
import io.aneforge.runtime.LoadedModel;
import io.aneforge.runtime.ModelRuntime;
import io.aneforge.runtime.RuntimeLoadException;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.tensor.FloatTensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runtime around the Objective-C seam. The bridge here is a recording double of the
 * native calls (which cannot run on Linux); what is under test is the Java around them.
 */
class CoreMlRuntimeTest {

    @TempDir
    Path dir;

    /**
     * The runtime claims its caches as the agent does, with the claim's witness in java.io.tmpdir: removed here, since
     * each test's cache directory is new and its witness would stay behind.
     */
    @AfterEach
    void removeWitnesses() throws IOException {
        try (var s = Files.list(dir)) {
            for (Path cache : s.filter(p -> Files.exists(p.resolve(CacheClaim.FILE))).toList()) {
                Files.deleteIfExists(CacheWitness.of(CacheWitness.LOCAL_DIR, cache).file());
            }
        }
    }

    /** Records compile/load calls; "compiles" by writing a directory; predicts by echoing doubled ids. */
    class RecordingBridge implements CoreMlBridge {
        final List<Path> compiled = new ArrayList<>();
        final List<Long> loadedWithUnits = new ArrayList<>();
        ByteBuffer lastInputMemory;
        boolean closed;

        @Override
        public Path compile(Path mlpackage) {
            compiled.add(mlpackage);
            try {
                Path out = Files.createTempDirectory(dir, "coreml-tmp-").resolve("model.mlmodelc");
                Files.createDirectories(out);
                Files.writeString(out.resolve("coremldata.bin"), "compiled " + mlpackage.getFileName());
                return out;
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public NativeModel load(Path mlmodelc, long computeUnits) {
            assertThat(mlmodelc.resolve("coremldata.bin")).exists();
            loadedWithUnits.add(computeUnits);
            return new NativeModel() {
                @Override
                public Map<String, MultiArrayDataType> inputTypes() {
                    return Map.of("input_ids", MultiArrayDataType.INT32, "attention_mask", MultiArrayDataType.INT32);
                }

                @Override
                public Map<String, HostArray> predict(Map<String, int[]> shapes, InputEncoder encoder) {
                    int[] shape = shapes.get("input_ids");
                    long[] strides = {8, 1}; // Core ML chose padded strides for the input
                    ByteBuffer memory = ByteBuffer.allocate(Math.toIntExact(StridedLayout.byteSpan(shape, strides, 4)))
                            .order(ByteOrder.nativeOrder());
                    encoder.encode("input_ids", MultiArrayDataType.INT32, memory, strides);
                    ByteBuffer mask = ByteBuffer.allocate(shape[1] * 4).order(ByteOrder.nativeOrder());
                    encoder.encode("attention_mask", MultiArrayDataType.INT32, mask, new long[] {shape[1], 1});
                    lastInputMemory = memory;
                    // output: FP16, the ids doubled, last dim padded to 16
                    long[] outStrides = {16, 1};
                    ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(StridedLayout.byteSpan(shape, outStrides, 2)))
                            .order(ByteOrder.nativeOrder());
                    for (int c = 0; c < shape[1]; c++) {
                        out.putShort(c * 2, Fp16.fromFloat(2 * memory.getInt(c * 4)));
                    }
                    return Map.of("doubled", new HostArray(MultiArrayDataType.FLOAT16, shape, outStrides, out));
                }

                @Override
                public void close() {
                    closed = true;
                }
            };
        }
    }

    private Path mlpackage(String name, String weights) throws IOException {
        Path pkg = dir.resolve(name);
        Files.createDirectories(pkg.resolve("Data/com.apple.CoreML/weights"));
        Files.writeString(pkg.resolve("Manifest.json"), "{\"fileFormatVersion\":\"1.0.0\"}");
        Files.writeString(pkg.resolve("Data/com.apple.CoreML/weights/weight.bin"), weights);
        return pkg;
    }

    private CoreMlRuntime macRuntime(RecordingBridge bridge, String build) {
        return new CoreMlRuntime(dir.resolve("compiled"), 1 << 20, "Mac OS X", "aarch64", () -> build, () -> bridge);
    }

    private static final Map<String, FloatTensor> INPUTS = Map.of(
            "input_ids", new FloatTensor(new int[] {1, 3}, new float[] {101, 2054, 102}),
            "attention_mask", new FloatTensor(new int[] {1, 3}, new float[] {1, 1, 1}));

    @Test
    @EnabledOnOs(LINUX)
    void isUnavailableOnLinuxAndSaysWhatToUseInstead() {
        CoreMlRuntime runtime = new CoreMlRuntime(dir);

        assertThat(runtime.id()).isEqualTo("coreml");
        assertThat(runtime.isAvailable()).isFalse();
        assertThat(runtime.version()).isEqualTo("unavailable");
        assertThatThrownBy(() -> runtime.load(dir.resolve("m.mlpackage"), RuntimeOptions.defaults()))
                .isInstanceOf(RuntimeLoadException.class)
                .hasMessageContaining("needs macOS on Apple silicon")
                .hasMessageContaining("use the reference-cpu runtime");
    }

    @Test
    void isFoundByServiceLoader() {
        List<String> ids = ServiceLoader.load(ModelRuntime.class).stream().map(p -> p.get().id()).toList();
        assertThat(ids).contains("coreml");
    }

    @Test
    void availabilityNeedsMacOnAppleSiliconAndALoadableFramework() {
        assertThat(CoreMlRuntime.isMacOnAppleSilicon("Mac OS X", "aarch64")).isTrue();
        assertThat(CoreMlRuntime.isMacOnAppleSilicon("Mac OS X", "x86_64")).isFalse();
        assertThat(CoreMlRuntime.isMacOnAppleSilicon("Linux", "aarch64")).isFalse();
        CoreMlRuntime broken = new CoreMlRuntime(dir, 1 << 20, "Mac OS X", "aarch64", () -> "23F79", () -> {
            throw new UnsatisfiedLinkError("Unable to load library 'CoreML'");
        });
        assertThat(broken.isAvailable()).isFalse();
        assertThatThrownBy(() -> broken.load(dir, RuntimeOptions.defaults()))
                .isInstanceOf(RuntimeLoadException.class)
                .hasMessageContaining("CoreML.framework did not load: Unable to load library 'CoreML'");
        RecordingBridge bridge = new RecordingBridge();
        assertThat(macRuntime(bridge, "23F79").isAvailable()).isTrue();
        assertThat(macRuntime(bridge, "23F79").version()).isEqualTo("23F79");
    }

    /**
     * The compiled-model cache claims its directory by the name the agent registers with ({@code aneforge.agent.host-name},
     * as {@code AgentConfiguration} passes it), and by the OS's host name without one. Core ML itself is a stand-in here.
     */
    @Test
    @EnabledOnOs(LINUX)
    void theCompiledModelCacheIsClaimedByTheAgentsName() throws IOException {
        Path pkg = mlpackage("m.mlpackage", "w");
        new CoreMlRuntime(dir.resolve("named"), 1 << 20, "Mac OS X", "aarch64", () -> "23F79", RecordingBridge::new,
                "ns-a.aneforge-agent-0").load(pkg, RuntimeOptions.defaults()).close();
        // the claim's last line names the host, with or without a machine identity (CacheClaimTest)
        assertThat(Files.readString(dir.resolve("named").resolve(CacheClaim.FILE)))
                .endsWith(CacheClaim.thisHost("ns-a.aneforge-agent-0") + "\n")
                .contains("ns-a.aneforge-agent-0 pid:[");

        macRuntime(new RecordingBridge(), "23F79").load(pkg, RuntimeOptions.defaults()).close();
        assertThat(Files.readString(dir.resolve("compiled").resolve(CacheClaim.FILE))).endsWith(CacheClaim.thisHost("") + "\n");
    }

    @Test
    void compilesOncePerPackageContentAndOsBuild() throws IOException {
        RecordingBridge bridge = new RecordingBridge();
        Path a = mlpackage("a.mlpackage", "weights-v1");
        Path sameContentElsewhere = mlpackage("copy.mlpackage", "weights-v1");
        Path changed = mlpackage("b.mlpackage", "weights-v2");
        CoreMlRuntime sonoma = macRuntime(bridge, "23F79");

        sonoma.load(a, RuntimeOptions.defaults()).close();
        sonoma.load(a, RuntimeOptions.defaults()).close();
        sonoma.load(sameContentElsewhere, RuntimeOptions.defaults()).close();
        assertThat(bridge.compiled).containsExactly(a);

        sonoma.load(changed, RuntimeOptions.defaults()).close();
        macRuntime(bridge, "24A335").load(a, RuntimeOptions.defaults()).close();
        assertThat(bridge.compiled).containsExactly(a, changed, a);

        CompiledModelCache cache = new CompiledModelCache(dir.resolve("compiled"), "23F79", 1 << 20, "");
        Path key = cache.keyFor(a);
        assertThat(key).isEqualTo(dir.resolve("compiled/23F79/" + CompiledModelCache.packageDigest(a) + ".mlmodelc"));
        assertThat(key.resolve("coremldata.bin")).hasContent("compiled a.mlpackage");
        assertThat(cache.keyFor(sameContentElsewhere)).isEqualTo(key);
        assertThat(cache.keyFor(changed)).isNotEqualTo(key);
        assertThat(dir.resolve("compiled/24A335")).isDirectory();
        // Core ML's temporary output is moved away, not left behind
        try (var s = Files.list(dir)) {
            assertThat(s.filter(p -> p.getFileName().toString().startsWith("coreml-tmp-"))
                    .allMatch(p -> !Files.exists(p.resolve("model.mlmodelc")))).isTrue();
        }
    }

    @Test
    void passesComputeUnitsAndConvertsInputsAndStridedOutputs() throws IOException {
        RecordingBridge bridge = new RecordingBridge();
        CoreMlRuntime runtime = macRuntime(bridge, "23F79");
        Path pkg = mlpackage("m.mlpackage", "w");

        LoadedModel model = runtime.load(pkg, new RuntimeOptions("cpuAndNeuralEngine", false, 0));
        Map<String, FloatTensor> out = model.predict(INPUTS);
        model.close();

        assertThat(bridge.loadedWithUnits).containsExactly(3L);
        assertThat(bridge.lastInputMemory.getInt(4)).isEqualTo(2054); // written as Int32
        assertThat(out).containsOnlyKeys("doubled");
        assertThat(out.get("doubled").shape()).containsExactly(1, 3);
        assertThat(out.get("doubled").data()).containsExactly(202f, 4108f, 204f);
        assertThat(bridge.closed).isTrue();
    }

    @Test
    void inputNameMismatchNamesMissingAndUnexpected() throws IOException {
        LoadedModel model = macRuntime(new RecordingBridge(), "23F79").load(mlpackage("m.mlpackage", "w"),
                RuntimeOptions.defaults());
        Map<String, FloatTensor> wrong = new LinkedHashMap<>();
        wrong.put("input_ids", INPUTS.get("input_ids"));
        wrong.put("token_type_ids", INPUTS.get("input_ids"));

        assertThatThrownBy(() -> model.predict(wrong))
                .isInstanceOf(CoreMlException.class)
                .hasMessage("model m.mlpackage expects inputs [attention_mask, input_ids];"
                        + " missing [attention_mask], unexpected [token_type_ids]");
    }

    @Test
    void refusesDirectoriesThatAreNotPackages() throws IOException {
        Path notPkg = Files.createDirectories(dir.resolve("empty.mlpackage"));
        assertThatThrownBy(() -> macRuntime(new RecordingBridge(), "23F79").load(notPkg, RuntimeOptions.defaults()))
                .isInstanceOf(RuntimeLoadException.class)
                .hasMessageContaining("has no Manifest.json");
        assertThatThrownBy(() -> new CompiledModelCache(dir, "../etc", 1 << 20, ""))
                .hasMessageContaining("is not a build identifier like 23F79");
        assertThatThrownBy(() -> new CompiledModelCache(dir, "..", 1 << 20, ""))
                .hasMessageContaining("is not a build identifier like 23F79");
        assertThatThrownBy(() -> new CompiledModelCache(dir, "23F79", 0, ""))
                .hasMessageContaining("aneforge.agent.cache.compiled-max-size");
    }

    private List<String> inUseMarks() throws IOException {
        try (var s = Files.list(dir.resolve("compiled/23F79"))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.contains(CompiledModelCache.IN_USE)).toList();
        }
    }

    /** A loaded model keeps its compiled model in use until it is closed, and a failed load does not keep it. */
    @Test
    void aLoadedModelHoldsItsCompiledModelUntilClosed() throws IOException {
        RecordingBridge bridge = new RecordingBridge();
        CoreMlRuntime runtime = macRuntime(bridge, "23F79");

        LoadedModel model = runtime.load(mlpackage("m.mlpackage", "w"), RuntimeOptions.defaults());
        assertThat(inUseMarks()).hasSize(1);
        model.close();
        assertThat(bridge.closed).isTrue();
        assertThat(inUseMarks()).isEmpty();

        RecordingBridge failing = new RecordingBridge() {
            @Override
            public NativeModel load(Path mlmodelc, long computeUnits) {
                throw new RuntimeLoadException("Core ML refused the model (NSError 0)");
            }
        };
        assertThatThrownBy(() -> macRuntime(failing, "23F79").load(mlpackage("n.mlpackage", "v"), RuntimeOptions.defaults()))
                .hasMessageContaining("Core ML refused the model");
        assertThat(inUseMarks()).isEmpty();
    }
}
