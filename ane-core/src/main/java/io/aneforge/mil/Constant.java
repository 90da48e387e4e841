package io.aneforge.mil;

import io.aneforge.tensor.FloatTensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * Constant data of a MIL value. Numeric and bool data are kept as raw little-endian
 * bytes exactly as Core ML stores them (fp16 as its bits, int4/uint4 packed
 * least-significant bits first, bool one byte per element), so a program read from
 * disk and written again keeps every bit. Strings are kept as a list.
 */
public final class Constant implements Arg {
    private final TensorType type;
    /** The bytes; null for strings and FP32 views. */
    private final byte[] raw;
    /** An FP32 view's values (not a copy), else null. */
    private final float[] floats;
    /** An FP32 view's bytes, made from {@link #floats} when first asked for ({@link #raw()}). */
    private volatile byte[] viewBytes;
    private final List<String> strings;

    private Constant(TensorType type, byte[] raw, List<String> strings) {
        this.type = type;
        this.raw = raw;
        this.floats = null;
        this.strings = strings;
    }

    private Constant(TensorType type, float[] floats) {
        this.type = type;
        this.raw = null;
        this.floats = floats;
        this.strings = null;
    }

    /** Wraps raw little-endian bytes of a numeric or bool tensor; the array is not copied. */
    public static Constant ofRaw(TensorType type, byte[] raw) {
        if (type.dtype() == DType.STRING) {
            throw new IllegalArgumentException("use ofStrings for string constants");
        }
        long expected = type.dtype().byteSize(type.elementCount());
        if (raw.length != expected) {
            throw new MilException("constant of type " + type + " needs " + expected + " bytes but has " + raw.length);
        }
        return new Constant(type, raw, null);
    }

    public static Constant ofStrings(int[] shape, List<String> values) {
        TensorType t = new TensorType(DType.STRING, shape);
        if (values.size() != t.elementCount()) {
            throw new MilException("string constant of shape " + Arrays.toString(shape) + " needs " + t.elementCount() + " values, got " + values.size());
        }
        return new Constant(t, null, List.copyOf(values));
    }

    public static Constant string(String value) {
        return ofStrings(new int[0], List.of(value));
    }

    /**
     * An FP32 constant over {@code data} itself, not a copy: the caller must never change the array. Reading
     * floats ({@link #floatsInto}, {@link #floatAt}) reads the array; the little-endian bytes are made on the
     * first {@link #raw()} (writing a package), so a program that is only run (the converter's golden FP32
     * graph over the imported weights) never copies its weights. The same value as {@link #fp32}.
     */
    public static Constant fp32View(float[] data, int... shape) {
        TensorType t = TensorType.of(DType.FP32, shape);
        if (data.length != t.elementCount()) {
            throw new MilException("constant of type " + t + " needs " + t.elementCount() + " values but has " + data.length);
        }
        return new Constant(t, data);
    }

    public static Constant fp32(float[] data, int... shape) {
        ByteBuffer b = buffer(data.length * 4L);
        b.asFloatBuffer().put(data); // one bulk copy (raw float bits, like putFloat), not a call per element
        return ofRaw(TensorType.of(DType.FP32, shape), b.array());
    }

    /** Rounds each value to fp16 (nearest even). */
    public static Constant fp16(float[] data, int... shape) {
        ByteBuffer b = buffer(data.length * 2L);
        for (float f : data) {
            b.putShort(Half.fromFloat(f));
        }
        return ofRaw(TensorType.of(DType.FP16, shape), b.array());
    }

    /** A float tensor in the given float dtype (fp16 or fp32). */
    public static Constant floats(DType dtype, float[] data, int... shape) {
        return switch (dtype) {
            case FP16 -> fp16(data, shape);
            case FP32 -> fp32(data, shape);
            default -> throw new MilException("expected a float dtype (fp16 or fp32), got " + dtype.milName());
        };
    }

    /** A float tensor's data in fp16 (rounded) or fp32. */
    public static Constant of(FloatTensor t, DType dtype) {
        return floats(dtype, t.data(), t.shape());
    }

    public static Constant floatScalar(DType dtype, float value) {
        return floats(dtype, new float[]{value});
    }

    public static Constant int32(int[] data, int... shape) {
        ByteBuffer b = buffer(data.length * 4L);
        for (int v : data) {
            b.putInt(v);
        }
        return ofRaw(TensorType.of(DType.INT32, shape), b.array());
    }

    /** A rank-1 int32 vector. */
    public static Constant int32s(int... data) {
        return int32(data, data.length);
    }

    public static Constant int32Scalar(int v) {
        return int32(new int[]{v});
    }

    public static Constant bool(boolean v) {
        return ofRaw(TensorType.scalar(DType.BOOL), new byte[]{(byte) (v ? 1 : 0)});
    }

    public static Constant bools(boolean... values) {
        byte[] raw = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            raw[i] = (byte) (values[i] ? 1 : 0);
        }
        return ofRaw(TensorType.of(DType.BOOL, values.length), raw);
    }

    /**
     * Integer data of any integer dtype (int4/uint4/int8/uint8/int16/uint16/int32);
     * values must be in range; sub-byte types are packed LSB first.
     */
    public static Constant integers(DType dtype, int[] values, int... shape) {
        if (!dtype.isInteger() || dtype.bits() > 32) {
            throw new MilException("integers() takes an integer dtype of at most 32 bits, got " + dtype.milName());
        }
        long min = dtype.isSigned() ? -(1L << (dtype.bits() - 1)) : 0;
        long max = dtype.isSigned() ? (1L << (dtype.bits() - 1)) - 1 : (1L << dtype.bits()) - 1;
        TensorType type = TensorType.of(dtype, shape);
        byte[] raw = new byte[(int) dtype.byteSize(values.length)];
        for (int i = 0; i < values.length; i++) {
            long v = values[i];
            if (v < min || v > max) {
                throw new MilException("value " + v + " at index " + i + " is out of range for " + dtype.milName() + " [" + min + ", " + max + "]");
            }
            writeBits(raw, dtype.bits(), i, v);
        }
        return ofRaw(type, raw);
    }

    private static void writeBits(byte[] raw, int bits, int index, long v) {
        if (bits == 4) {
            int shift = (index & 1) * 4;
            raw[index >> 1] |= (byte) ((v & 0xf) << shift);
        } else {
            int bytes = bits / 8;
            for (int k = 0; k < bytes; k++) {
                raw[index * bytes + k] = (byte) (v >>> (8 * k));
            }
        }
    }

    private static ByteBuffer buffer(long size) {
        return ByteBuffer.allocate(Math.toIntExact(size)).order(ByteOrder.LITTLE_ENDIAN);
    }

    public TensorType type() {
        return type;
    }

    public DType dtype() {
        return type.dtype();
    }

    public long elementCount() {
        return type.elementCount();
    }

    /** Raw little-endian bytes (shared, do not mutate); null for strings. */
    public byte[] raw() {
        if (floats == null) {
            return raw;
        }
        byte[] r = viewBytes;
        if (r == null) {
            ByteBuffer b = buffer(floats.length * 4L);
            b.asFloatBuffer().put(floats);
            r = b.array();
            viewBytes = r;
        }
        return r;
    }

    public List<String> strings() {
        return strings;
    }

    /** Element {@code i} as a float, whatever the dtype (bool as 0/1). */
    public float floatAt(int i) {
        DType d = type.dtype();
        switch (d) {
            case FP32:
                return floats != null ? floats[i] : Float.intBitsToFloat(le(i * 4, 4));
            case FP16:
                return Half.toFloat((short) le(i * 2, 2));
            case BF16:
                return Float.intBitsToFloat(le(i * 2, 2) << 16);
            case FP64:
                return (float) Double.longBitsToDouble(leLong(i * 8));
            case STRING:
                throw new MilException("string constant has no numeric value");
            default:
                return (float) longAt(i);
        }
    }

    /** Element {@code i} of an integer or bool tensor. */
    public long longAt(int i) {
        DType d = type.dtype();
        switch (d) {
            case BOOL:
            case UINT8:
                return raw[i] & 0xff;
            case INT8:
                return raw[i];
            case INT4: {
                int nib = (raw[i >> 1] >> ((i & 1) * 4)) & 0xf;
                return nib >= 8 ? nib - 16 : nib;
            }
            case UINT4:
                return (raw[i >> 1] >> ((i & 1) * 4)) & 0xf;
            case INT16:
                return (short) le(i * 2, 2);
            case UINT16:
                return le(i * 2, 2) & 0xffff;
            case INT32:
                return le(i * 4, 4);
            case UINT32:
                return le(i * 4, 4) & 0xffffffffL;
            case INT64:
            case UINT64:
                return leLong(i * 8);
            default:
                if (d.isFloat()) {
                    return (long) floatAt(i);
                }
                throw new MilException("string constant has no numeric value");
        }
    }

    private int le(int off, int n) {
        int v = 0;
        for (int k = 0; k < n; k++) {
            v |= (raw[off + k] & 0xff) << (8 * k);
        }
        return v;
    }

    private long leLong(int off) {
        long v = 0;
        for (int k = 0; k < 8; k++) {
            v |= (raw[off + k] & 0xffL) << (8 * k);
        }
        return v;
    }

    public float[] toFloats() {
        int n = Math.toIntExact(elementCount());
        float[] out = new float[n];
        floatsInto(0, out, 0, n);
        return out;
    }

    /**
     * Elements {@code [from, from + n)} as floats into {@code dst} from {@code off}: the values
     * {@link #floatAt} gives, decoded in one loop per dtype (a reference runtime loading a MiniLM
     * decodes 23 million weights; per-element dispatch and byte assembly were most of it).
     */
    public void floatsInto(int from, float[] dst, int off, int n) {
        switch (type.dtype()) {
            case FP32:
                if (floats != null) {
                    System.arraycopy(floats, from, dst, off, n);
                } else {
                    ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(from, dst, off, n);
                }
                return;
            case FP16:
                io.aneforge.kernels.Fp16.toFloats(raw, from, dst, off, n);
                return;
            case INT8:
                for (int i = 0; i < n; i++) {
                    dst[off + i] = raw[from + i];
                }
                return;
            case UINT8:
                for (int i = 0; i < n; i++) {
                    dst[off + i] = raw[from + i] & 0xff;
                }
                return;
            case INT4:
            case UINT4:
                boolean signed = type.dtype() == DType.INT4;
                for (int i = 0; i < n; i++) {
                    int k = from + i;
                    int nib = (raw[k >> 1] >> ((k & 1) * 4)) & 0xf;
                    dst[off + i] = signed && nib >= 8 ? nib - 16 : nib;
                }
                return;
            default:
                for (int i = 0; i < n; i++) {
                    dst[off + i] = floatAt(from + i);
                }
        }
    }

    public int[] toInts() {
        int n = Math.toIntExact(elementCount());
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = Math.toIntExact(longAt(i));
        }
        return out;
    }

    public boolean[] toBools() {
        int n = Math.toIntExact(elementCount());
        boolean[] out = new boolean[n];
        for (int i = 0; i < n; i++) {
            out[i] = floatAt(i) != 0;
        }
        return out;
    }

    public int intValue() {
        requireScalar();
        return Math.toIntExact(longAt(0));
    }

    public float floatValue() {
        requireScalar();
        return floatAt(0);
    }

    public boolean boolValue() {
        requireScalar();
        return floatAt(0) != 0;
    }

    public String stringValue() {
        requireScalar();
        if (strings == null) {
            throw new MilException("expected a string, got " + type);
        }
        return strings.get(0);
    }

    private void requireScalar() {
        if (elementCount() != 1) {
            throw new MilException("expected a single value, got a constant of type " + type);
        }
    }

    public FloatTensor toFloatTensor() {
        return new FloatTensor(type.shape(), toFloats());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Constant c && c.type.equals(type) && Arrays.equals(c.raw(), raw())
                && java.util.Objects.equals(c.strings, strings);
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + Arrays.hashCode(raw()) + java.util.Objects.hashCode(strings);
    }

    @Override
    public String toString() {
        if (strings != null) {
            return "const " + type + " " + strings;
        }
        int n = (int) Math.min(elementCount(), 8);
        StringBuilder sb = new StringBuilder("const ").append(type).append(" [");
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ", ").append(type.dtype().isFloat() ? String.valueOf(floatAt(i)) : String.valueOf(longAt(i)));
        }
        return sb.append(elementCount() > n ? ", ...]" : "]").toString();
    }
}
