package io.aneforge.mil;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MilBuilderTest {

    @Test
    void shapeErrorNamesOpArgumentAndRule() {
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var x = b.input("x", DType.FP32, 2, 3);
        assertThatThrownBy(() -> b.linear(x, Constant.fp32(new float[20], 4, 5), null))
                .isInstanceOf(MilException.class)
                .hasMessage("op 'linear_0' (linear), argument 'weight': shape [4, 5] must be [out, in] with in = 3 (last dim of x [2, 3])");
        assertThatThrownBy(() -> b.named("scores").matmul(x, x, false, false))
                .hasMessage("op 'scores' (matmul), argument 'y': inner dimensions differ: x [2, 3] contracts 3 but y [2, 3] offers 2");
    }

    @Test
    void einsumAcceptsOnlyTheCoreMlPatterns() {
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var q = b.input("q", DType.FP32, 1, 3, 1, 4);
        Var k = b.input("k", DType.FP32, 1, 5, 1, 3);
        assertThat(b.einsum("nchw,nwhu->nchu", k, q).shape()).containsExactly(1, 5, 1, 4);
        assertThatThrownBy(() -> b.einsum("bchq,bkhc->bkhq", q, k))
                .hasMessageContaining("argument 'equation': 'bchq,bkhc->bkhq' is not supported: Core ML accepts only nchw,nwhu->nchu");
    }

    @Test
    void opsAndParametersAreGatedByTarget() {
        MilBuilder ios17 = new MilBuilder(Target.IOS17);
        assertThatThrownBy(() -> ios17.blockwiseShiftScale(Constant.integers(DType.INT8, new int[]{1, 2}, 1, 2),
                Constant.fp16(new float[]{1}, 1, 1), null))
                .hasMessage("op 'constexpr_blockwise_shift_scale_0' (constexpr_blockwise_shift_scale): needs iOS 18 / macOS 15 (CoreML8)"
                        + " but the program targets iOS 17 / macOS 14 (CoreML7); raise the deployment target");
        MilBuilder ios15 = new MilBuilder(Target.IOS15);
        Var t = ios15.constant(Constant.fp32(new float[12], 6, 2));
        Var ids = ios15.input("ids", DType.INT32, 3);
        assertThatThrownBy(() -> ios15.op("gather").arg("x", t).arg("indices", ids).arg("batch_dims", 0).build())
                .hasMessage("op 'gather_0' (gather), argument 'batch_dims': exists only from iOS 16 / macOS 13 (CoreML6);"
                        + " the program targets iOS 15 / macOS 12");
        // defaults are bound only for parameters the target has
        Var g15 = ios15.gather(t, ids, 0);
        assertThat(ios15.build(g15).producer(g15.name()).inputs().keySet()).containsExactly("x", "indices", "axis");
        MilBuilder ios17b = new MilBuilder(Target.IOS17);
        Var g17 = ios17b.gather(ios17b.constant(Constant.fp32(new float[12], 6, 2)), ios17b.input("ids", DType.INT32, 3), 0);
        assertThat(ios17b.build(g17).producer(g17.name()).inputs().keySet())
                .containsExactly("x", "indices", "axis", "batch_dims", "validate_indices");
    }

    @Test
    void everyOptionalParameterIsBoundWithItsDefault() {
        MilBuilder b = new MilBuilder(Target.IOS18);
        Var x = b.input("x", DType.FP16, 1, 64, 1, 8);
        Var y = b.conv(x, b.constant(Constant.fp16(new float[32 * 64], 32, 64, 1, 1)), null);
        Program p = b.build(y);
        Operation conv = p.producer(y.name());
        assertThat(conv.inputs().keySet()).containsExactly("x", "weight", "bias", "strides", "pad_type", "pad", "dilations", "groups");
        assertThat(((Constant) conv.inputs().get("strides").get(0)).toInts()).containsExactly(1, 1);
        assertThat(((Constant) conv.inputs().get("pad").get(0)).toInts()).containsExactly(0, 0, 0, 0);
        assertThat(((Constant) conv.inputs().get("pad_type").get(0)).stringValue()).isEqualTo("valid");
        // the zero bias has 32 elements: it becomes a const op bound by name, in the dtype of x
        Var bias = (Var) conv.inputs().get("bias").get(0);
        assertThat(bias.name()).isEqualTo("conv_0_bias");
        assertThat(bias.type()).isEqualTo(TensorType.of(DType.FP16, 32));
        assertThat(p.producer("conv_0_bias").type()).isEqualTo("const");
        // float literals take the dtype of the parameter they must match
        Var ln = b.layerNorm(x, new int[]{1}, null, null, 1e-5f);
        assertThat(ln.dtype()).isEqualTo(DType.FP16);
    }

    @Test
    void rejectsUnknownParametersDtypeMismatchAndNonConstWeights() {
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var x = b.input("x", DType.FP16, 2, 3);
        Var x32 = b.input("x32", DType.FP32, 2, 3);
        assertThatThrownBy(() -> b.op("gelu").arg("x", x).arg("approximation", "EXACT").build())
                .hasMessage("op 'gelu_0' (gelu), argument 'approximation': unknown parameter; gelu accepts [x, mode]");
        assertThatThrownBy(() -> b.add(x, x32))
                .hasMessage("op 'add_0' (add), argument 'y': dtype fp32 must equal the dtype of 'x' (fp16); insert a cast");
        assertThatThrownBy(() -> b.linear(x32, b.input("w", DType.FP32, 4, 3), null))
                .hasMessageContaining("argument 'weight': must be a compile-time constant");
        assertThatThrownBy(() -> b.gelu(x, "FAST"))
                .hasMessageContaining("argument 'mode': 'FAST' is not a gelu mode");
    }

    @Test
    void namesAreDeterministicPerBuilder() {
        List<String> first = names(new MilBuilder(Target.IOS16));
        List<String> second = names(new MilBuilder(Target.IOS16));
        assertThat(first).isEqualTo(second).containsExactly("add_0", "add_1", "mul_0");
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var x = b.input("x", DType.FP32, 2);
        b.named("h").add(x, 1f);
        assertThatThrownBy(() -> b.named("h").add(x, 1f)).hasMessageContaining("op name 'h' is already used");
    }

    private static List<String> names(MilBuilder b) {
        Var x = b.input("x", DType.FP32, 2);
        Var y = b.add(b.add(x, 1f), 2f);
        return b.build(b.mul(y, y)).operations().stream().map(Operation::name).toList();
    }

    @Test
    void validatorCatchesAWrongDeclaredType() {
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var x = b.input("x", DType.FP32, 2, 3);
        Var y = b.tanh(x);
        Program good = b.build(y);
        Operation op = good.operations().get(0);
        Var bad = new Var(y.name(), TensorType.of(DType.FP32, 3, 2));
        Program broken = new Program(good.target(), good.inputs(),
                List.of(new Operation(op.type(), op.name(), op.inputs(), op.attributes(), List.of(bad))), List.of(bad), good.metadata());
        assertThatThrownBy(() -> ProgramValidator.validate(broken))
                .hasMessage("op 'tanh_0' (tanh) declares output 'tanh_0' as fp32[3, 2] but its inputs give fp32[2, 3]; fix the declared output type");
    }

    @Test
    void halfConversionRoundsToNearestEven() {
        assertThat(Half.fromFloat(1e-12f)).isEqualTo((short) 0);
        assertThat(Half.fromFloat(0x1p-24f)).isEqualTo((short) 1);
        assertThat(Half.fromFloat(65504f)).isEqualTo((short) 0x7bff);
        assertThat(Half.fromFloat(65520f)).isEqualTo((short) 0x7c00);
        assertThat(Half.fromFloat(1 + 0x1p-11f)).isEqualTo((short) 0x3c00); // tie -> even
        assertThat(Half.fromFloat(1 + 3 * 0x1p-11f)).isEqualTo((short) 0x3c02);
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = Half.toFloat((short) bits);
            if (!Float.isNaN(f)) {
                assertThat(Half.fromFloat(f)).as("bits %04x", bits).isEqualTo((short) bits);
            }
        }
    }

    @Test
    void int4IsPackedLeastSignificantNibbleFirst() {
        Constant c = Constant.integers(DType.INT4, new int[]{-8, -1, 0, 7, 1}, 5);
        assertThat(c.raw()).containsExactly(0xF8, 0x70, 0x01);
        assertThat(c.toInts()).containsExactly(-8, -1, 0, 7, 1);
        assertThat(Constant.integers(DType.UINT4, new int[]{15, 1}, 2).raw()).containsExactly(0x1F);
        assertThatThrownBy(() -> Constant.integers(DType.INT4, new int[]{8}, 1))
                .hasMessage("value 8 at index 0 is out of range for int4 [-8, 7]");
    }
}
