package io.aneforge.mlpackage;

import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.TensorType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BlobStorageTest {

    @Test
    void writesHeaderMetadataRecordsAndDeduplicates(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("weight.bin");
        Constant int4 = Constant.integers(DType.INT4, new int[]{-8, -1, 0, 7, 1}, 5);
        Constant fp16 = Constant.fp16(new float[]{1, 2, 3}, 3);
        long a;
        long b;
        long again;
        try (BlobWriter w = new BlobWriter(f)) {
            a = w.add(int4);
            b = w.add(fp16);
            again = w.add(Constant.integers(DType.INT4, new int[]{-8, -1, 0, 7, 1}, 5));
            assertThat(w.count()).isEqualTo(2);
        }
        assertThat(a).isEqualTo(BlobLayout.HEADER_SIZE);
        assertThat(again).isEqualTo(a);
        assertThat(b).isEqualTo(BlobLayout.align(a + BlobLayout.METADATA_SIZE + 3));

        ByteBuffer bb = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(bb.capacity()).isEqualTo((int) b + BlobLayout.METADATA_SIZE + 6); // no padding after the last blob
        assertThat(bb.getInt(0)).isEqualTo(2);
        assertThat(bb.getInt(4)).isEqualTo(2);
        assertThat(bb.getInt((int) a)).isEqualTo(0xDEADBEEF);
        assertThat(bb.getInt((int) a + 4)).isEqualTo(8); // int4
        assertThat(bb.getLong((int) a + 8)).isEqualTo(3);
        assertThat(bb.getLong((int) a + 16)).isEqualTo(a + 64);
        assertThat(bb.getLong((int) a + 24)).isEqualTo(4); // 3 bytes hold 6 nibbles, 5 used
        assertThat(bb.get((int) a + 64)).isEqualTo((byte) 0xF8);
        assertThat(bb.getInt((int) b + 4)).isEqualTo(1); // fp16

        try (BlobReader r = new BlobReader(f)) {
            assertThat(r.count()).isEqualTo(2);
            assertThat(r.read(a, int4.type(), "t").toInts()).containsExactly(-8, -1, 0, 7, 1);
            assertThat(r.read(b, fp16.type(), "t").toFloats()).containsExactly(1, 2, 3);
            assertThatThrownBy(() -> r.read(a, TensorType.of(DType.INT8, 3), "op 'w' (const), attribute 'val'"))
                    .hasMessage("op 'w' (const), attribute 'val': blob at offset 64 has dtype code 8 but the model declares int8 (code 4)");
            assertThatThrownBy(() -> r.read(b, TensorType.of(DType.FP16, 4), "t"))
                    .hasMessage("t: blob at offset 192 holds 6 bytes but type fp16[4] needs 8");
            assertThatThrownBy(() -> r.read(a + 64, int4.type(), "t"))
                    .hasMessageContaining("BlobFileValue.offset must point at the metadata record, not at the data: the record for this data is at offset 64");
        }
    }

    @Test
    void refusesToCloseWhenTheFileDoesNotAddUp(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("weight.bin");
        BlobWriter w = new BlobWriter(f);
        w.add(Constant.fp16(new float[12], 12));
        Files.write(f, new byte[300], StandardOpenOption.APPEND); // someone else wrote to the file, past where the writer ends
        assertThatThrownBy(w::close).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is inconsistent: size 300 but 152 bytes were written");
    }

    @Test
    void rejectsTypesThatCannotLiveInABlob(@TempDir Path tmp) {
        try (BlobWriter w = new BlobWriter(tmp.resolve("weight.bin"))) {
            assertThatThrownBy(() -> w.add(Constant.bools(new boolean[12])))
                    .hasMessage("dtype bool cannot be stored in weight.bin (tensor bool[12])");
        }
    }

    @Test
    void anOffsetNearLongMaxIsNamedNotAnIndexError(@TempDir Path tmp) {
        Path f = tmp.resolve("weight.bin");
        try (BlobWriter w = new BlobWriter(f)) {
            w.add(Constant.fp16(new float[12], 12));
        }
        try (BlobReader r = new BlobReader(f)) {
            // offset + 64 overflowed to a negative number and passed the bounds check
            assertThatThrownBy(() -> r.read(Long.MAX_VALUE - 63, TensorType.of(DType.FP16, 12), "op 'w' (const), attribute 'val'"))
                    .isInstanceOf(MlPackageException.class)
                    .hasMessageStartingWith("op 'w' (const), attribute 'val': blob offset 9223372036854775744 in weight.bin is not a"
                            + " 64-aligned metadata record inside the file (152 bytes)");
        }
    }

    /** A weight.bin cut short (an interrupted copy) is named truncated, with the size it needs and the size it has. */
    @Test
    void aTruncatedFileIsNamedTruncated(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("weight.bin");
        try (BlobWriter w = new BlobWriter(f)) {
            w.add(Constant.fp16(new float[500], 500));
        }
        assertThat(Files.size(f)).isEqualTo(64 + 64 + 1000);
        try (var ch = java.nio.channels.FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.truncate(1000);
        }
        try (BlobReader r = new BlobReader(f)) {
            assertThatThrownBy(() -> r.read(64, TensorType.of(DType.FP16, 500), "op 'w' (const), attribute 'val'"))
                    .isInstanceOf(MlPackageException.class)
                    .hasMessage("op 'w' (const), attribute 'val': weight.bin is truncated: the blob at offset 64 needs the file"
                            + " to be at least 1128 bytes, it has 1000: the package is damaged; convert or pull it again");
        }
        // cut before a later blob's record: the record lies past the end
        try (BlobWriter w = new BlobWriter(f)) {
            w.add(Constant.fp16(new float[4], 4));
            w.add(Constant.fp16(new float[8], 8));
        }
        try (var ch = java.nio.channels.FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.truncate(192);
        }
        try (BlobReader r = new BlobReader(f)) {
            r.read(64, TensorType.of(DType.FP16, 4), "a");
            assertThatThrownBy(() -> r.read(192, TensorType.of(DType.FP16, 8), "b")).isInstanceOf(MlPackageException.class)
                    .hasMessage("b: blob offset 192 in weight.bin is not a 64-aligned metadata record inside the file (192 bytes):"
                            + " it lies past the end of weight.bin, which is truncated (or the model names a blob that is not"
                            + " there): the package is damaged; convert or pull it again");
        }
    }

    /** A record at 64 whose 128 data bytes hold a second record at 128: two constants over the same bytes. */
    @Test
    void overlappingBlobsAreRefused(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("weight.bin");
        ByteBuffer b = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 2).putInt(4, BlobLayout.VERSION);
        b.putInt(64, BlobLayout.SENTINEL).putInt(68, DType.FP16.blobCode()).putLong(72, 128).putLong(80, 128);
        b.putInt(128, BlobLayout.SENTINEL).putInt(132, DType.FP16.blobCode()).putLong(136, 64).putLong(144, 192);
        Files.write(f, b.array());
        try (BlobReader r = new BlobReader(f)) {
            r.read(64, TensorType.of(DType.FP16, 64), "a");
            assertThatThrownBy(() -> r.read(128, TensorType.of(DType.FP16, 32), "b")).isInstanceOf(MlPackageException.class)
                    .hasMessage("b: blob at offset 128 (bytes 128..256) overlaps the blob at offset 64 (bytes 64..256) in weight.bin:"
                            + " blobs never share bytes, so the file is damaged");
        }
        try (BlobReader r = new BlobReader(f)) { // the other order
            r.read(128, TensorType.of(DType.FP16, 32), "b");
            assertThatThrownBy(() -> r.read(64, TensorType.of(DType.FP16, 64), "a"))
                    .hasMessageContaining("a: blob at offset 64 (bytes 64..256) overlaps the blob at offset 128");
        }
    }

    /** The writer stores equal constants once; every const naming the blob shares one copy of its bytes. */
    @Test
    void aBlobNamedTwiceIsReadOnce(@TempDir Path tmp) {
        Path f = tmp.resolve("weight.bin");
        long a;
        try (BlobWriter w = new BlobWriter(f)) {
            a = w.add(Constant.fp16(new float[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 12));
        }
        try (BlobReader r = new BlobReader(f, 30)) { // room for the 24 bytes once, not twice
            Constant first = r.read(a, TensorType.of(DType.FP16, 12), "a");
            Constant second = r.read(a, TensorType.of(DType.FP16, 3, 4), "b");
            assertThat(second.raw()).isSameAs(first.raw());
            assertThat(second.toFloats()).containsExactly(first.toFloats());
        }
    }

    @Test
    void weightsOverTheHeapAreRefusedWithTheFix(@TempDir Path tmp) {
        Path f = tmp.resolve("weight.bin");
        long a;
        long b;
        try (BlobWriter w = new BlobWriter(f)) {
            a = w.add(Constant.fp16(new float[32], 32));
            b = w.add(Constant.fp16(new float[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
                    24, 25, 26, 27, 28, 29, 30, 31, 32}, 32));
        }
        try (BlobReader r = new BlobReader(f, 100)) {
            r.read(a, TensorType.of(DType.FP16, 32), "a");
            assertThatThrownBy(() -> r.read(b, TensorType.of(DType.FP16, 32), "op 'b' (const), attribute 'val'"))
                    .isInstanceOf(MlPackageException.OutOfHeap.class)
                    // a fact about this JVM, not the package: a server must not keep it as the package's verdict
                    .satisfies(e -> assertThat(((MlPackageException) e).kind()).isEqualTo(MlPackageException.Kind.HEAP))
                    .hasMessage("op 'b' (const), attribute 'val': the weights of weight.bin read so far and this blob take 128 bytes,"
                            + " more than this JVM's heap of at most 100 bytes: give the JVM a larger heap: -Xmx1g"
                            + " (for ./aneforge: ANEFORGE_JAVA_OPTS=-Xmx1g)");
        }
    }
}
