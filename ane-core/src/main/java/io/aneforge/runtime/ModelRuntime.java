package io.aneforge.runtime;

import java.nio.file.Path;

/**
 * Something that can load a {@code .mlpackage} and run predictions with it: the
 * reference CPU runtime of {@code ane-core} on every host, Core ML on macOS.
 *
 * <p>Implementations are found with {@link java.util.ServiceLoader}; {@link #isAvailable()}
 * tells whether this host can use one (Core ML needs macOS on Apple Silicon).
 */
public interface ModelRuntime {

    /** Stable id recorded with every result, e.g. {@code reference-cpu} or {@code coreml}. */
    String id();

    /** Version of the engine, recorded with every result (e.g. the OS build for Core ML). */
    String version();

    /** Whether this runtime can run on this host. */
    boolean isAvailable();

    /**
     * Loads (and for Core ML compiles) a package. The caller closes the returned model.
     *
     * @throws RuntimeLoadException when the package cannot be loaded, with the reason
     */
    LoadedModel load(Path mlpackage, RuntimeOptions options);
}
