/**
 * Core ML {@code .mlpackage} I/O, exactly per COREML_FORMAT.md: {@link io.aneforge.mlpackage.MlPackage}
 * writes and reads packages (Manifest.json, model.mlmodel, weights/weight.bin),
 * {@link io.aneforge.mlpackage.ProgramCodec} maps MIL programs to the Core ML protobuf,
 * {@link io.aneforge.mlpackage.BlobWriter}/{@link io.aneforge.mlpackage.BlobReader} handle
 * blob storage v2 ({@link io.aneforge.mlpackage.BlobLayout}), and
 * {@link io.aneforge.mlpackage.PackageArchive} zips deterministically and unzips safely.
 * No math here.
 */
package io.aneforge.mlpackage;
