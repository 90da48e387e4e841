package io.aneforge.convert;

import io.aneforge.io.IoProblems;
import io.aneforge.graph.BuiltGraph;
import io.aneforge.graph.GraphException;
import io.aneforge.graph.Graphs;
import io.aneforge.graph.WeightCache;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.mlpackage.MlPackageException;
import io.aneforge.model.ImportedModel;
import io.aneforge.quant.QuantizationException;
import io.aneforge.mil.PeakMemory;
import io.aneforge.variant.VariantSpec;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Builds and writes variants. Stateless; safe to call from several threads (each call builds its own program). */
public final class VariantConverter {
    private VariantConverter() {
    }

    /** The variant's program, quantization reports, parameter count and peak intermediate bytes. */
    public static BuiltVariant build(ImportedModel model, VariantSpec spec) {
        return build(model, spec, WeightCache.none());
    }

    /** Like {@link #build(ImportedModel, VariantSpec)}, sharing weight encodings with the conversion's other variants. */
    public static BuiltVariant build(ImportedModel model, VariantSpec spec, WeightCache cache) {
        BuiltGraph g;
        try {
            g = Graphs.build(model, spec, cache);
        } catch (GraphException | QuantizationException e) {
            throw new ConversionException("cannot build variant " + spec.id() + " of " + model.config().modelType()
                    + ": " + e.getMessage(), e);
        }
        return new BuiltVariant(spec, g.program(), g.reports(), g.parameterCount(),
                PeakMemory.peakIntermediateBytes(g.program()));
    }

    /** Builds the variant and writes it to {@code packageDir} (absent or empty); hashes its deterministic archive. */
    public static ConvertedVariant convert(ImportedModel model, VariantSpec spec, Path packageDir) {
        return convert(model, spec, packageDir, null);
    }

    /**
     * Like {@link #convert(ImportedModel, VariantSpec, Path)}, and also keeps the archive in
     * {@code archiveFile} when it is not null (the bytes whose sha256 is returned).
     */
    public static ConvertedVariant convert(ImportedModel model, VariantSpec spec, Path packageDir, Path archiveFile) {
        return convert(model, spec, packageDir, archiveFile, WeightCache.none());
    }

    /**
     * Like {@link #convert(ImportedModel, VariantSpec, Path, Path)}; variants of one conversion that pass the
     * same {@code cache} encode each shared weight once (same bytes as without it).
     */
    public static ConvertedVariant convert(ImportedModel model, VariantSpec spec, Path packageDir, Path archiveFile,
                                           WeightCache cache) {
        BuiltVariant built = build(model, spec, cache);
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        long size;
        // Buffered: the zip's deflater hands over 512-byte pieces, one write(2) each without a buffer.
        OutputStream file;
        try {
            if (archiveFile == null) {
                file = OutputStream.nullOutputStream();
            } else {
                Path parent = archiveFile.toAbsolutePath().getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                file = new BufferedOutputStream(Files.newOutputStream(archiveFile), 1 << 16);
            }
        } catch (IOException e) {
            throw new ConversionException("cannot write archive " + archiveFile + " of variant " + spec.id() + ": "
                    + IoProblems.describe(e, archiveFile), e);
        }
        // The package and its archive in one call: the archive takes the weights from the program's arrays.
        try (file; CountingStream counting = new CountingStream(new DigestOutputStream(file, sha))) {
            MlPackage.write(built.program(), packageDir, counting);
            counting.flush();
            size = counting.count;
        } catch (MlPackageException e) {
            deletePartial(archiveFile);
            throw new ConversionException("cannot write variant " + spec.id() + ": " + e.getMessage(), e);
        } catch (IOException e) {
            deletePartial(archiveFile);
            throw new ConversionException("cannot write archive " + archiveFile + " of variant " + spec.id() + ": "
                    + IoProblems.describe(e, archiveFile), e);
        }
        return new ConvertedVariant(spec, packageDir, HexFormat.of().formatHex(sha.digest()), size,
                built.parameterCount(), built.peakIntermediateBytes(), built.reports());
    }

    /** A failed write leaves no archive behind that could pass for a finished one. */
    private static void deletePartial(Path archiveFile) {
        if (archiveFile != null) {
            try {
                Files.deleteIfExists(archiveFile);
            } catch (IOException ignored) {
                // the conversion fails anyway, with the first error
            }
        }
    }

    private static final class CountingStream extends java.io.FilterOutputStream {
        long count;

        CountingStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }
}
