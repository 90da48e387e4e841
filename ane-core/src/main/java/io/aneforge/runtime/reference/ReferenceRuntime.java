package io.aneforge.runtime.reference;

import io.aneforge.kernels.Kernels;
import io.aneforge.memory.Heap;
import io.aneforge.mil.MilException;
import io.aneforge.mil.PeakMemory;
import io.aneforge.mil.Program;
import io.aneforge.mil.ProgramValidator;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.mlpackage.MlPackageException;
import io.aneforge.mlpackage.PackageArchive;
import io.aneforge.runtime.LoadedModel;
import io.aneforge.runtime.ModelRuntime;
import io.aneforge.runtime.RuntimeLoadException;
import io.aneforge.runtime.RuntimeOptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The reference CPU runtime, {@code reference-cpu}: available on every host, registered for
 * {@link java.util.ServiceLoader}. Loads a {@code .mlpackage} directory, or a zip of one
 * (as the registry ships it), and runs it with {@link ReferenceModel}.
 */
public final class ReferenceRuntime implements ModelRuntime {

    public static final String ID = "reference-cpu";

    /**
     * Version of the engine's numerics, recorded with every result; bump it when a change
     * alters what predictions return (a kernel's accumulation order, the FP16 rounding).
     * 1.1: the plain-Java GEMM (a JVM without the Vector API) chains {@code Math.fma} like the vector kernel,
     * so both paths now return the same bits; the vector path's predictions are those of 1.0.
     */
    public static final String VERSION = "1.1";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String version() {
        return VERSION;
    }

    @Override
    public boolean isAvailable() {
        return true;
    }

    @Override
    public LoadedModel load(Path mlpackage, RuntimeOptions options) {
        checkOptions(options);
        Program program;
        try {
            program = Files.isRegularFile(mlpackage) ? readArchive(mlpackage) : MlPackage.read(mlpackage);
        } catch (MlPackageException e) {
            throw new RuntimeLoadException("cannot load " + mlpackage + ": " + e.getMessage(), e);
        }
        return load(program, options, Kernels.isFast());
    }

    /**
     * Loads an in-memory program (tests, benchmarks, the converter's own checks).
     *
     * @param fastKernels false runs every op with its scalar reference evaluation
     */
    public static ReferenceModel load(Program program, RuntimeOptions options, boolean fastKernels) {
        return load(program, options, fastKernels, false);
    }

    /**
     * As {@link #load(Program, RuntimeOptions, boolean)}; {@code oneGroup}: the model will run one group of
     * predictions ({@link ReferenceModel#predictAll}) and be closed, so weights still encoded in the program are
     * decoded and packed by each product as it runs instead of once at load into copies held for the model's life
     * (the same outputs; a model that predicts more than once pays the packing again in each).
     */
    public static ReferenceModel load(Program program, RuntimeOptions options, boolean fastKernels, boolean oneGroup) {
        return load(program, options, fastKernels, oneGroup, null);
    }

    /**
     * As {@link #load(Program, RuntimeOptions, boolean, boolean)}; with {@code shared} (null: none) the matrix
     * products' packed weights come from {@code shared} where an earlier load put them there, and a load that packs
     * at load ({@code oneGroup} false) puts the ones it packs there, held until {@code shared} is closed; a
     * {@code oneGroup} load packs the others on use and adds nothing ({@link PackedWeights}: programs that hold the
     * same weight ops, loaded one after another). The same outputs.
     */
    public static ReferenceModel load(Program program, RuntimeOptions options, boolean fastKernels, boolean oneGroup,
                                      PackedWeights shared) {
        checkOptions(options);
        if (shared != null) {
            shared.requireOpen();
        }
        try {
            ProgramValidator.validate(program);
        } catch (MilException e) {
            throw new RuntimeLoadException("program is not valid: " + e.getMessage(), e);
        }
        requireHeap(program, Heap.maxBytes());
        ExecutionPlan plan;
        try {
            plan = ExecutionPlan.compile(program, fastKernels, options.fp16Activations(), oneGroup, shared);
        } catch (MilException e) {
            throw new RuntimeLoadException("cannot prepare the program: " + e.getMessage(), e);
        }
        int threads = options.threads() == 0 ? Runtime.getRuntime().availableProcessors() : options.threads();
        return new ReferenceModel(plan, threads);
    }

    /**
     * Refuses a program whose intermediate values alone, at their static peak ({@link PeakMemory}, 4 bytes per
     * element as this runtime holds them), exceed {@code maxHeapBytes}: it could only end in an
     * {@link OutOfMemoryError} part way through (a crafted 284 KB package asked for a 30000 x 30000 product). The
     * heap must also hold the weights, so a program under the limit can still run out; this catches the
     * hopeless cases with numbers and the fix.
     */
    static void requireHeap(Program program, long maxHeapBytes) {
        PeakMemory.Peak peak = PeakMemory.peakFloatBytes(program);
        if (peak.bytes() > maxHeapBytes) {
            throw new RuntimeLoadException("cannot run this program: its intermediate values take "
                    + Heap.describe(peak.bytes()) + " (" + peak.bytes() + " bytes) at their peak, at op '" + peak.at().name()
                    + "' (" + peak.at().type() + "), more than this JVM's heap of at most " + Heap.describe(maxHeapBytes)
                    + ": " + Heap.fix(peak.bytes()));
        }
    }

    private static void checkOptions(RuntimeOptions options) {
        if (!options.computeUnits().equals("cpuOnly")) {
            throw new RuntimeLoadException("the " + ID + " runtime runs on the CPU only; compute units '"
                    + options.computeUnits() + "' need Core ML (use cpuOnly here)");
        }
    }

    private static Program readArchive(Path zip) {
        return readArchive(zip, null);
    }

    /**
     * Unpacks {@code zip} into a fresh directory in {@code scratch} (the system's temporary directory when null),
     * reads the package and deletes the directory, whatever happened. The unzip holds each file to the reader's
     * own bound (a model.mlmodel over 64 MiB is refused when its entry is seen), so a crafted zip costs little disk.
     */
    static Program readArchive(Path zip, Path scratch) {
        Path dir;
        try {
            dir = scratch == null ? Files.createTempDirectory("aneforge-load-") : Files.createTempDirectory(scratch, "aneforge-load-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            PackageArchive.unzip(zip, dir, PackageArchive.Limits.defaults()); // MlPackageException: load() names the file
            // PackageArchive names entries <package dir>/..., so the package is one level down
            Path root;
            try (Stream<Path> s = Files.walk(dir, 2)) {
                root = s.filter(p -> p.getFileName().toString().equals(MlPackage.MANIFEST)).map(Path::getParent)
                        .findFirst().orElseThrow(() -> new RuntimeLoadException("archive " + zip + " holds no .mlpackage ("
                                + MlPackage.MANIFEST + " not found at its top level or one directory down)"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return MlPackage.read(root);
        } finally {
            deleteTree(dir);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a leftover temp directory is harmless; the model is already in memory
        }
    }
}
