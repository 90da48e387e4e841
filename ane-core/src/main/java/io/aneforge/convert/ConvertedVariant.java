package io.aneforge.convert;

import io.aneforge.quant.QuantReport;
import io.aneforge.variant.VariantSpec;
import java.nio.file.Path;
import java.util.List;

/**
 * A variant written to disk.
 *
 * @param packageDir     the {@code .mlpackage} directory
 * @param archiveSha256  sha256 (hex) of the deterministic zip of the package ({@code PackageArchive.zip})
 * @param archiveSize    bytes of that zip
 */
public record ConvertedVariant(VariantSpec spec, Path packageDir, String archiveSha256, long archiveSize,
                               long parameterCount, long peakIntermediateBytes, List<QuantReport> reports) {
    public ConvertedVariant {
        if (spec == null || packageDir == null || archiveSha256 == null || reports == null) {
            throw new IllegalStateException("converted variant needs spec, package dir, archive hash and reports");
        }
        reports = List.copyOf(reports);
    }
}
