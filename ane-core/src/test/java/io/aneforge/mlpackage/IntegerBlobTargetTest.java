package io.aneforge.mlpackage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Program;
import io.aneforge.mil.Target;
import io.aneforge.mil.Var;
import io.aneforge.mlpackage.proto.Block;
import io.aneforge.mlpackage.proto.Function;
import io.aneforge.mlpackage.proto.Model;
import io.aneforge.mlpackage.proto.Value;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * int16/uint16/int32/uint32 constants go to weight.bin only from iOS 18, as coremltools writes them
 * ({@code should_use_weight_file}): below it they are immediate values in model.mlmodel whatever their size, and the
 * reader refuses such a blob in a package declaring an older target. The constant here is MPNet's relative position
 * buckets at 512 tokens, the largest integer constant the converter writes.
 */
class IntegerBlobTargetTest {
    static final int S = 512;

    @TempDir
    Path tmp;

    /** A (32, 4) table gathered at (S, S) int32 indices with values 0..31 (as MPNet's buckets). */
    static Program gatherAtIndices(Target target) {
        MilBuilder b = new MilBuilder(target);
        Var table = b.input("table", DType.FP32, 32, 4);
        int[] idx = new int[S * S];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = (i * 7 + i / S) % 32;
        }
        Var indices = b.constant("indices", Constant.int32(idx, S, S));
        return b.build(b.gather(table, indices, 0));
    }

    private static Model model(Path pkg) throws Exception {
        return Model.parseFrom(Files.readAllBytes(pkg.resolve("Data/com.apple.CoreML/model.mlmodel")));
    }

    private static Value indicesValue(Model m) {
        Block block = m.getMlProgram().getFunctionsMap().get(ProgramCodec.MAIN).getBlockSpecializationsMap().values()
                .iterator().next();
        return block.getOperationsList().stream().filter(op -> op.getType().equals("const")
                && op.getOutputs(0).getName().equals("indices")).findFirst().orElseThrow().getAttributesMap().get("val");
    }

    @Test
    void belowIos18Int32IsImmediateAndRoundTrips() throws Exception {
        for (Target target : List.of(Target.IOS15, Target.IOS16, Target.IOS17)) {
            Program p = gatherAtIndices(target);
            Path pkg = tmp.resolve(target + ".mlpackage");
            MlPackage.WriteResult written = MlPackage.write(p, pkg);
            Value v = indicesValue(model(pkg));
            assertThat(v.hasImmediateValue()).as(target.toString()).isTrue();
            assertThat(v.getImmediateValue().getTensor().getInts().getValuesCount()).isEqualTo(S * S);
            assertThat(written.blobCount()).isZero();
            // one varint byte per index (0..31): 256 KiB and a little, far below the reader's 64 MiB model.mlmodel bound
            assertThat(written.modelBytes()).isBetween((long) S * S, (long) S * S + 4096);
            Program read = MlPackage.read(pkg);
            Constant back = read.producer("indices").attributes().get("val");
            assertThat(back).isEqualTo(p.producer("indices").attributes().get("val"));
        }
    }

    @Test
    void fromIos18Int32IsABlob() throws Exception {
        Program p = gatherAtIndices(Target.IOS18);
        Path pkg = tmp.resolve("ios18.mlpackage");
        MlPackage.WriteResult written = MlPackage.write(p, pkg);
        assertThat(indicesValue(model(pkg)).hasBlobFileValue()).isTrue();
        assertThat(written.blobCount()).isEqualTo(1);
        assertThat(written.weightBytes()).isGreaterThanOrEqualTo(4L * S * S);
        assertThat(MlPackage.read(pkg).producer("indices").attributes().get("val"))
                .isEqualTo(p.producer("indices").attributes().get("val"));
    }

    @Test
    void anInt32BlobInAPackageBelowIos18IsRefused() throws Exception {
        Path pkg = tmp.resolve("relabelled.mlpackage");
        MlPackage.write(gatherAtIndices(Target.IOS18), pkg);
        // the same package relabelled iOS 16: its indices stay in weight.bin
        Model m = model(pkg);
        Function fn = m.getMlProgram().getFunctionsMap().get(ProgramCodec.MAIN);
        Block block = fn.getBlockSpecializationsMap().get(Target.IOS18.opset());
        Function relabelled = fn.toBuilder().setOpset(Target.IOS16.opset()).clearBlockSpecializations()
                .putBlockSpecializations(Target.IOS16.opset(), block).build();
        Model edited = m.toBuilder().setSpecificationVersion(Target.IOS16.specificationVersion())
                .setMlProgram(m.getMlProgram().toBuilder().putFunctions(ProgramCodec.MAIN, relabelled)).build();
        Files.write(pkg.resolve("Data/com.apple.CoreML/model.mlmodel"), MlPackage.serialize(edited));
        assertThatThrownBy(() -> MlPackage.read(pkg)).isInstanceOf(MlPackageException.class)
                .hasMessageContaining("op 'indices' (const), attribute 'val': int32 data stored in weight.bin needs iOS 18"
                        + " (specificationVersion 9), but the model declares 7 (iOS 16 / macOS 13)")
                .hasMessageContaining("convert the model again with this converter, or target iOS 18");
        // unedited, the iOS 18 package reads
        Path ok = tmp.resolve("ios18.mlpackage");
        MlPackage.write(gatherAtIndices(Target.IOS18), ok);
        assertThat(MlPackage.read(ok).target()).isEqualTo(Target.IOS18);
    }
}
