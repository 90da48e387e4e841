package io.aneforge.mlpackage;

import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.Operation;
import io.aneforge.mil.Program;
import io.aneforge.mil.ReferenceEvaluator;
import io.aneforge.mil.Target;
import io.aneforge.mil.TensorType;
import io.aneforge.tensor.FloatTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FixtureReaderTest {

    static FloatTensor randomInput(long seed) {
        Random r = new Random(seed);
        float[] x = new float[4 * 64];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return new FloatTensor(new int[]{1, 4, 64}, x);
    }

    @Test
    void readsTinyFp16() {
        Program p = MlPackage.read(Fixtures.pkg("tiny_fp16"));
        assertThat(p.target()).isEqualTo(Target.IOS18);
        assertThat(p.operations().stream().map(Operation::type).toList()).containsExactly(
                "const", "const", "const", "const", "const", "cast", "layer_norm", "const", "const", "linear",
                "const", "gelu", "const", "softmax", "const", "cast");
        assertThat(p.outputs().get(0).type()).isEqualTo(TensorType.of(DType.FP32, 1, 4, 32));
        Operation eps = p.producer("ln_epsilon_0_to_fp16");
        // 1e-12 underflows to the smallest fp16 subnormal (bits 0x0001), stored as immediate bytes
        assertThat(eps.attributes().get("val").raw()).containsExactly(1, 0);
        assertThat(p.producer("dense_weight_0_to_fp16").output().type()).isEqualTo(TensorType.of(DType.FP16, 32, 64));
        assertThat(p.metadata()).containsEntry("com.github.apple.coremltools.source", "milinternal");

        FloatTensor out = ReferenceEvaluator.run(p, Map.of("x", randomInput(1))).get("out");
        for (int row = 0; row < 4; row++) {
            double sum = 0;
            for (int k = 0; k < 32; k++) {
                float v = out.data()[row * 32 + k];
                assertThat(v).isBetween(0f, 1f);
                sum += v;
            }
            assertThat(sum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
        }
    }

    @Test
    void readsBlockwiseInt8WithValuesBoundDirectly() {
        Program p = MlPackage.read(Fixtures.pkg("tiny_int8_block32"));
        Operation q = p.producer("dense_weight_0_to_fp16_quantized");
        assertThat(q.type()).isEqualTo("constexpr_blockwise_shift_scale");
        Constant data = (Constant) q.inputs().get("data").get(0);
        Constant scale = (Constant) q.inputs().get("scale").get(0);
        assertThat(data.type()).isEqualTo(TensorType.of(DType.INT8, 32, 64));
        assertThat(scale.type()).isEqualTo(TensorType.of(DType.FP16, 32, 2));
        assertThat(q.inputs()).doesNotContainKey("offset");
        // symmetric int8: every value within [-127, 127], and each block's max |q| is 127
        int[] ints = data.toInts();
        assertThat(java.util.Arrays.stream(ints).allMatch(v -> v >= -127 && v <= 127)).isTrue();
        int max = 0;
        for (int j = 0; j < 32; j++) {
            max = Math.max(max, Math.abs(ints[j]));
        }
        assertThat(max).isEqualTo(127);

        // the quantized program stays close to the fp16 one
        FloatTensor x = randomInput(2);
        FloatTensor a = ReferenceEvaluator.run(p, Map.of("x", x)).get("out");
        FloatTensor b = ReferenceEvaluator.run(MlPackage.read(Fixtures.pkg("tiny_fp16")), Map.of("x", x)).get("out");
        for (int i = 0; i < a.size(); i++) {
            assertThat(a.data()[i]).isCloseTo(b.data()[i], org.assertj.core.data.Offset.offset(0.01f));
        }
    }

    @Test
    void readsAffineDequantizeWithAttributes() {
        Program p = MlPackage.read(Fixtures.pkg("tiny_ios16_affine_uint8"));
        assertThat(p.target()).isEqualTo(Target.IOS16);
        Operation q = p.producer("dense_weight_0_to_fp16_quantized");
        assertThat(q.type()).isEqualTo("constexpr_affine_dequantize");
        assertThat(q.inputs()).isEmpty();
        assertThat(q.attributes().keySet()).containsExactlyInAnyOrder("quantized_data", "zero_point", "scale", "axis");
        assertThat(q.attributes().get("quantized_data").type()).isEqualTo(TensorType.of(DType.UINT8, 32, 64));
        assertThat(q.attributes().get("axis").intValue()).isZero();
        assertThat(q.output().type()).isEqualTo(TensorType.of(DType.FP16, 32, 64));
        assertThat(p.outputs()).hasSize(1);
        FloatTensor out = ReferenceEvaluator.run(p, Map.of(p.inputs().get(0).name(), randomInput(3)))
                .get(p.outputs().get(0).name());
        assertThat(out.shape()).containsExactly(1, 4, 32);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny_fp16", "tiny_int8_block32", "tiny_ios16_affine_uint8"})
    void fixturesRoundTripThroughTheWriter(String name, @TempDir Path tmp) throws Exception {
        Program p = MlPackage.read(Fixtures.pkg(name));
        Path dir = tmp.resolve(name + ".mlpackage");
        MlPackage.write(p, dir);
        assertThat(MlPackage.read(dir)).isEqualTo(p);
        // same blobs in the same order with the same alignment as coremltools
        Path weights = Path.of("Data", "com.apple.CoreML", "weights", "weight.bin");
        assertThat(Files.readAllBytes(dir.resolve(weights))).isEqualTo(Files.readAllBytes(Fixtures.pkg(name).resolve(weights)));
    }

    @Test
    void rejectsOffsetPointingAtData() {
        assertThatThrownBy(() -> MlPackage.read(Fixtures.pkg("neg_offset_points_to_data")))
                .isInstanceOf(MlPackageException.class)
                .hasMessage("op 'gamma' (const), attribute 'val': no blob metadata sentinel 0xDEADBEEF at offset 2432 of weight.bin"
                        + " (found 0x3C003C00); BlobFileValue.offset must point at the metadata record, not at the data:"
                        + " the record for this data is at offset 2368");
    }

    @Test
    void rejectsUnknownGeluParameter() {
        assertThatThrownBy(() -> MlPackage.read(Fixtures.pkg("neg_unknown_param")))
                .isInstanceOf(MlPackageException.class)
                .hasMessageContaining("(gelu), argument 'approximation': unknown parameter; gelu accepts [x, mode]");
    }

    @Test
    void rejectsOpsetKeyMismatch() {
        assertThatThrownBy(() -> MlPackage.read(Fixtures.pkg("neg_opset_key_mismatch")))
                .isInstanceOf(MlPackageException.class)
                .hasMessage("function 'main' declares opset CoreML7 but its block specializations are keyed [CoreML8]; the key must equal the opset");
    }

    @Test
    void rejectsManifestWithoutWeightsItem() {
        assertThatThrownBy(() -> MlPackage.read(Fixtures.pkg("neg_no_weights_item")))
                .isInstanceOf(MlPackageException.class)
                .hasMessageContaining("Manifest.json has no weights item (author com.apple.CoreML, name weights");
    }

    @Test
    void rejectsDeclaredOutputShapeThatDoesNotMatchInference() {
        assertThatThrownBy(() -> MlPackage.read(Fixtures.pkg("neg_wrong_output_shape")))
                .isInstanceOf(MlPackageException.class)
                .hasMessage("neg_wrong_output_shape.mlpackage: op 'act' (gelu) declares output 'act' as fp16[1, 4, 31]"
                        + " but its inputs give fp16[1, 4, 32]; fix the declared output type");
    }

    @Test
    void everyNegativeFixtureHasItsOwnMessage() {
        List<String> names = List.of("neg_offset_points_to_data", "neg_unknown_param", "neg_opset_key_mismatch",
                "neg_no_weights_item", "neg_wrong_output_shape");
        List<String> messages = names.stream().map(n -> {
            try {
                MlPackage.read(Fixtures.pkg(n));
                return "accepted";
            } catch (MlPackageException e) {
                return e.getMessage();
            }
        }).toList();
        assertThat(messages).doesNotHaveDuplicates().doesNotContain("accepted");
    }
}
