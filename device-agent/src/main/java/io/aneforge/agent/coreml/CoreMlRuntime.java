package io.aneforge.agent.coreml;

import io.aneforge.agent.host.JnaSysctl;
import io.aneforge.runtime.LoadedModel;
import io.aneforge.runtime.ModelRuntime;
import io.aneforge.runtime.RuntimeLoadException;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.tensor.FloatTensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * Core ML on macOS through the Objective-C runtime (JNA): compile the package (cached per
 * package digest and OS build), load it with the requested compute units, predict.
 *
 * <p><b>Written against Apple's documented API, not yet run on a Mac.</b> Everything around
 * the Objective-C calls (availability, compute units, dtype and stride handling, the compile
 * cache, error messages) is unit-tested on Linux through {@link CoreMlBridge}.
 *
 * <p>{@link RuntimeOptions#fp16Activations()} and {@link RuntimeOptions#threads()} are
 * reference-runtime knobs: Core ML chooses precision per compute unit (the Neural Engine
 * always computes in FP16) and its own threads, so they are ignored here.
 */
public final class CoreMlRuntime implements ModelRuntime {

    public static final String ID = "coreml";
    /** The compiled-model cache's cap unless configured: {@code aneforge.agent.cache.compiled-max-size}'s default. */
    public static final long DEFAULT_COMPILED_CACHE_BYTES = 10L << 30;

    private final Path compiledCacheDir;
    private final long compiledCacheMaxBytes;
    private final String osName;
    private final String osArch;
    private final Supplier<String> osBuild;
    private final Supplier<CoreMlBridge> bridgeFactory;
    private CoreMlBridge bridge;
    private Boolean frameworkLoadable;
    private String frameworkFailure = "";
    private CompiledModelCache compiledModels;
    private final String agentName;

    /** For {@link java.util.ServiceLoader}: compiled models under {@code ~/Library/Caches/io.aneforge.agent/coreml}. */
    public CoreMlRuntime() {
        this(Path.of(System.getProperty("user.home"), "Library", "Caches", "io.aneforge.agent", "coreml"));
    }

    public CoreMlRuntime(Path compiledCacheDir) {
        this(compiledCacheDir, DEFAULT_COMPILED_CACHE_BYTES);
    }

    /** Compiled models under {@code compiledCacheDir}, least recently used ones evicted above {@code maxBytes}. */
    public CoreMlRuntime(Path compiledCacheDir, long compiledCacheMaxBytes) {
        this(compiledCacheDir, compiledCacheMaxBytes, "");
    }

    /**
     * @param agentName the name the agent registers with ({@code aneforge.agent.host-name}; empty: the OS's host name),
     *     by which the compiled-model cache claims its directory ({@link CacheClaim.Claimant#thisHost})
     */
    public CoreMlRuntime(Path compiledCacheDir, long compiledCacheMaxBytes, String agentName) {
        this(compiledCacheDir, compiledCacheMaxBytes, System.getProperty("os.name", ""), System.getProperty("os.arch", ""),
                () -> new JnaSysctl().string("kern.osversion").trim(), JnaCoreMlBridge::new, agentName);
    }

    CoreMlRuntime(Path compiledCacheDir, long compiledCacheMaxBytes, String osName, String osArch,
            Supplier<String> osBuild, Supplier<CoreMlBridge> bridgeFactory) {
        this(compiledCacheDir, compiledCacheMaxBytes, osName, osArch, osBuild, bridgeFactory, "");
    }

    CoreMlRuntime(Path compiledCacheDir, long compiledCacheMaxBytes, String osName, String osArch,
            Supplier<String> osBuild, Supplier<CoreMlBridge> bridgeFactory, String agentName) {
        if (compiledCacheMaxBytes <= 0) {
            throw new IllegalArgumentException("the compiled-model cache's cap must be > 0 bytes, got "
                    + compiledCacheMaxBytes + " (aneforge.agent.cache.compiled-max-size)");
        }
        this.compiledCacheDir = compiledCacheDir;
        this.compiledCacheMaxBytes = compiledCacheMaxBytes;
        this.osName = osName;
        this.osArch = osArch;
        this.osBuild = osBuild;
        this.bridgeFactory = bridgeFactory;
        this.agentName = agentName == null ? "" : agentName.strip();
    }

    /** What the compiled-model cache claims its directory by: the agent's own name, or empty for the OS's host name. */
    String agentName() {
        return agentName;
    }

    /** macOS on Apple silicon: Core ML exists on Intel Macs too, but without a Neural Engine. */
    static boolean isMacOnAppleSilicon(String osName, String osArch) {
        return osName.startsWith("Mac") && (osArch.equals("aarch64") || osArch.equals("arm64"));
    }

    @Override
    public String id() {
        return ID;
    }

    /** The macOS build (e.g. 23F79): Core ML's compiler and ANE firmware ship with the OS. */
    @Override
    public String version() {
        return isMacOnAppleSilicon(osName, osArch) ? osBuild.get() : "unavailable";
    }

    /** True only on macOS/Apple silicon when CoreML.framework and libobjc load; never touches native code elsewhere. */
    @Override
    public synchronized boolean isAvailable() {
        if (!isMacOnAppleSilicon(osName, osArch)) {
            return false;
        }
        if (frameworkLoadable == null) {
            try {
                bridge = bridgeFactory.get();
                frameworkLoadable = true;
            } catch (UnsatisfiedLinkError | RuntimeException e) {
                frameworkLoadable = false;
                frameworkFailure = " (CoreML.framework did not load: " + e.getMessage() + ")";
            }
        }
        return frameworkLoadable;
    }

    @Override
    public LoadedModel load(Path mlpackage, RuntimeOptions options) {
        if (!isAvailable()) {
            throw new RuntimeLoadException("cannot load " + mlpackage + " with Core ML: it needs macOS on Apple silicon"
                    + " with CoreML.framework, and this host is " + osName + " " + osArch + frameworkFailure
                    + "; use the reference-cpu runtime here");
        }
        if (!Files.isRegularFile(mlpackage.resolve("Manifest.json"))) {
            throw new RuntimeLoadException(mlpackage + " has no Manifest.json: it is not an .mlpackage directory");
        }
        long units = ComputeUnits.fromOption(options.computeUnits());
        CoreMlBridge b = bridge;
        CompiledModelCache.CompiledModel compiled = compiledModels().compiled(mlpackage, b::compile);
        try {
            return new CoreMlLoadedModel(mlpackage, b.load(compiled.path(), units), compiled);
        } catch (RuntimeException | Error e) {
            compiled.close();
            throw e;
        }
    }

    /** One cache per runtime, made at the first load: its start-up sweep and the OS build need a Mac. */
    private synchronized CompiledModelCache compiledModels() {
        if (compiledModels == null) {
            compiledModels = new CompiledModelCache(compiledCacheDir, osBuild.get(), compiledCacheMaxBytes, agentName);
        }
        return compiledModels;
    }

    /**
     * An MLModel plus the FloatTensor ↔ MLMultiArray conversion. Its compiled model stays in use (not evicted)
     * until it is closed: Core ML may read the {@code .mlmodelc} after the load.
     */
    static final class CoreMlLoadedModel implements LoadedModel {
        private final Path mlpackage;
        private final CoreMlBridge.NativeModel model;
        private final CompiledModelCache.CompiledModel compiled;

        CoreMlLoadedModel(Path mlpackage, CoreMlBridge.NativeModel model, CompiledModelCache.CompiledModel compiled) {
            this.mlpackage = mlpackage;
            this.model = model;
            this.compiled = compiled;
        }

        @Override
        public Map<String, FloatTensor> predict(Map<String, FloatTensor> inputs) {
            Set<String> expected = model.inputTypes().keySet();
            if (!inputs.keySet().equals(expected)) {
                Set<String> missing = new TreeSet<>(expected);
                missing.removeAll(inputs.keySet());
                Set<String> unexpected = new TreeSet<>(inputs.keySet());
                unexpected.removeAll(expected);
                throw new CoreMlException("model " + mlpackage.getFileName() + " expects inputs " + new TreeSet<>(expected)
                        + "; missing " + missing + ", unexpected " + unexpected);
            }
            Map<String, int[]> shapes = new LinkedHashMap<>();
            inputs.forEach((name, t) -> shapes.put(name, t.shape().clone()));
            Map<String, HostArray> raw = model.predict(shapes,
                    (name, type, memory, strides) -> MultiArrayCodec.encodeInto(name, inputs.get(name), type, memory,
                            strides));
            Map<String, FloatTensor> out = new TreeMap<>();
            raw.forEach((name, array) -> out.put(name, MultiArrayCodec.decode(array)));
            return out;
        }

        @Override
        public void close() {
            try {
                model.close();
            } finally {
                compiled.close();
            }
        }
    }
}
