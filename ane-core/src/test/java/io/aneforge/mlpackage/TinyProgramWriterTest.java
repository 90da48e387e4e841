package io.aneforge.mlpackage;

import io.aneforge.mil.Arg;
import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Operation;
import io.aneforge.mil.Program;
import io.aneforge.mil.Target;
import io.aneforge.mil.Var;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Builds the program of tiny_fp16 with {@link MilBuilder}, writes it, and compares with what coremltools wrote. */
class TinyProgramWriterTest {

    static Program buildTiny(Program fixture) {
        Constant gamma = fixture.producer("ln_gamma_0_to_fp16").attributes().get("val");
        Constant beta = fixture.producer("ln_beta_0_to_fp16").attributes().get("val");
        Constant weight = fixture.producer("dense_weight_0_to_fp16").attributes().get("val");
        Constant bias = fixture.producer("dense_bias_0_to_fp16").attributes().get("val");

        MilBuilder b = new MilBuilder(Target.IOS18);
        Var x = b.input("x", DType.FP32, 1, 4, 64);
        Var axes = b.constant("ln_axes_0", Constant.int32s(-1));
        Var toFp16 = b.constant("x_to_fp16_dtype_0", Constant.string("fp16"));
        Var g = b.constant("ln_gamma_0_to_fp16", gamma);
        Var be = b.constant("ln_beta_0_to_fp16", beta);
        // 1e-12 rounds to 0 in fp16; coremltools clamps it to the smallest subnormal, 2^-24 (bits 0x0001)
        Var eps = b.constant("ln_epsilon_0_to_fp16", Constant.fp16(new float[]{0x1p-24f}));
        Var x16 = b.op("cast").arg("x", x).arg("dtype", toFp16).name("cast_1").outputNames("x_to_fp16").build();
        Var ln = b.op("layer_norm").arg("x", x16).arg("axes", axes).arg("gamma", g).arg("beta", be).arg("epsilon", eps)
                .name("ln_cast_fp16").build();
        Var w = b.constant("dense_weight_0_to_fp16", weight);
        Var bi = b.constant("dense_bias_0_to_fp16", bias);
        Var dense = b.named("dense_cast_fp16").linear(ln, w, bi);
        Var mode = b.constant("act_mode_0", Constant.string("EXACT"));
        Var act = b.op("gelu").arg("x", dense).arg("mode", mode).name("act_cast_fp16").build();
        Var axis = b.constant("out_axis_0", Constant.int32Scalar(-1));
        Var sm = b.op("softmax").arg("x", act).arg("axis", axis).name("out_cast_fp16").build();
        Var toFp32 = b.constant("out_cast_fp16_to_fp32_dtype_0", Constant.string("fp32"));
        Var out = b.op("cast").arg("x", sm).arg("dtype", toFp32).name("cast_0").outputNames("out").build();
        return b.build(out);
    }

    /** Op type, op name, bound input names (or "=value"), outputs with types: what must match the fixture. */
    static List<String> structure(Program p) {
        List<String> rows = new ArrayList<>();
        for (Operation op : p.operations()) {
            Map<String, List<String>> in = new TreeMap<>();
            op.inputs().forEach((k, v) -> in.put(k, v.stream().map(TinyProgramWriterTest::bindingName).toList()));
            rows.add(op.type() + " " + op.name() + " " + in + " -> " + op.outputs() + " attrs " + new TreeMap<>(op.attributes()).keySet());
        }
        return rows;
    }

    private static String bindingName(Arg a) {
        return a instanceof Var v ? v.name() : "=" + a.type();
    }

    @Test
    void builderReproducesTheCoremltoolsProgramAndWeightFile(@TempDir Path tmp) throws Exception {
        Program fixture = MlPackage.read(Fixtures.pkg("tiny_fp16"));
        Program mine = buildTiny(fixture);
        assertThat(structure(mine)).containsExactlyElementsOf(structure(fixture));

        Path dir = tmp.resolve("Tiny.mlpackage");
        MlPackage.WriteResult r = MlPackage.write(mine, dir);
        assertThat(r.blobCount()).isEqualTo(4);
        Program back = MlPackage.read(dir);
        assertThat(structure(back)).containsExactlyElementsOf(structure(fixture));
        assertThat(back).isEqualTo(mine);

        // same blobs, same order, same alignment: the weight file is byte-identical to coremltools' output
        Path weights = Path.of("Data", "com.apple.CoreML", "weights", "weight.bin");
        assertThat(Files.readAllBytes(dir.resolve(weights))).isEqualTo(Files.readAllBytes(Fixtures.pkg("tiny_fp16").resolve(weights)));

        // the model proto matches coremltools' except for what coremltools adds about itself
        var ours = MlPackage.readModel(dir);
        var theirs = MlPackage.readModel(Fixtures.pkg("tiny_fp16"));
        var theirsWithoutToolInfo = theirs.toBuilder().clearDescription().setDescription(theirs.getDescription().toBuilder().clearMetadata())
                .setMlProgram(theirs.getMlProgram().toBuilder().clearAttributes()).build();
        assertThat(ours).isEqualTo(theirsWithoutToolInfo);
    }

    @Test
    void manifestHasTheTwoItemsWithContentDerivedIds(@TempDir Path tmp) {
        Program p = buildTiny(MlPackage.read(Fixtures.pkg("tiny_fp16")));
        MlPackage.write(p, tmp.resolve("A.mlpackage"));
        Manifest m = MlPackage.readManifest(tmp.resolve("A.mlpackage"));
        assertThat(m.items()).hasSize(2);
        assertThat(m.rootModel()).isEqualTo(new Manifest.Item("com.apple.CoreML", "CoreML Model Specification", "model.mlmodel",
                "com.apple.CoreML/model.mlmodel"));
        assertThat(m.weights()).isEqualTo(new Manifest.Item("com.apple.CoreML", "CoreML Model Weights", "weights",
                "com.apple.CoreML/weights"));
        assertThat(m.rootModelIdentifier()).matches("[0-9a-f]{8}-[0-9a-f]{4}-3[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    }

    @Test
    void sameProgramGivesByteIdenticalPackagesAndZips(@TempDir Path tmp) throws Exception {
        Program fixture = MlPackage.read(Fixtures.pkg("tiny_fp16"));
        Path a = tmp.resolve("one").resolve("Tiny.mlpackage");
        Path b = tmp.resolve("two").resolve("Tiny.mlpackage");
        MlPackage.write(buildTiny(fixture), a);
        MlPackage.write(buildTiny(fixture), b);
        List<Path> files;
        try (Stream<Path> s = Files.walk(a)) {
            files = s.filter(Files::isRegularFile).map(a::relativize).sorted().toList();
        }
        assertThat(files).hasSize(3);
        for (Path f : files) {
            assertThat(Files.readAllBytes(b.resolve(f))).as(f.toString()).isEqualTo(Files.readAllBytes(a.resolve(f)));
        }
        ByteArrayOutputStream za = new ByteArrayOutputStream();
        ByteArrayOutputStream zb = new ByteArrayOutputStream();
        PackageArchive.zip(a, za);
        PackageArchive.zip(b, zb);
        assertThat(sha256(zb.toByteArray())).isEqualTo(sha256(za.toByteArray()));

        // and the zip unpacks to a package that reads back as the same program
        Path unpacked = tmp.resolve("unpacked");
        PackageArchive.unzip(Files.write(tmp.resolve("tiny.zip"), za.toByteArray()), unpacked, PackageArchive.Limits.defaults());
        assertThat(MlPackage.read(unpacked.resolve("Tiny.mlpackage"))).isEqualTo(MlPackage.read(a));
    }

    @Test
    void metadataAndInt32InputsRoundTripAndInvalidProgramsAreNotWritten(@TempDir Path tmp) {
        MilBuilder b = new MilBuilder(Target.IOS17);
        Var ids = b.input("input_ids", DType.INT32, 1, 8);
        Var emb = b.gather(b.constant("wte", Constant.fp16(new float[40], 10, 4)), ids, 0);
        b.metadata("aneforge.variant", "ane-layout");
        Program p = b.build(b.cast(emb, DType.FP32));
        MlPackage.write(p, tmp.resolve("E.mlpackage"));
        Program back = MlPackage.read(tmp.resolve("E.mlpackage"));
        assertThat(back).isEqualTo(p);
        assertThat(back.metadata()).containsExactly(Map.entry("aneforge.variant", "ane-layout"));
        assertThat(MlPackage.readModel(tmp.resolve("E.mlpackage")).getDescription().getInput(0).getType().getMultiArrayType().getDataType())
                .isEqualTo(io.aneforge.mlpackage.proto.ArrayFeatureType.ArrayDataType.INT32);

        Operation cast = p.operations().get(p.operations().size() - 1);
        Var wrong = new Var(cast.output().name(), io.aneforge.mil.TensorType.of(DType.FP32, 8, 4));
        Program broken = new Program(p.target(), p.inputs(), Stream.concat(p.operations().stream().limit(p.operations().size() - 1),
                Stream.of(new Operation(cast.type(), cast.name(), cast.inputs(), cast.attributes(), List.of(wrong)))).toList(),
                List.of(wrong), Map.of());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> MlPackage.write(broken, tmp.resolve("B.mlpackage")))
                .isInstanceOf(MlPackageException.class)
                .hasMessageStartingWith("refusing to write B.mlpackage: op 'cast_0' (cast) declares output 'cast_0' as fp32[8, 4]");
        assertThat(Files.exists(tmp.resolve("B.mlpackage"))).isFalse();
    }

    static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
