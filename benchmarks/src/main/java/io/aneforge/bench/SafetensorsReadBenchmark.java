package io.aneforge.bench;

import io.aneforge.safetensors.SafetensorsFile;
import io.aneforge.safetensors.SafetensorsWriter;
import io.aneforge.safetensors.TensorInfo;
import io.aneforge.tensor.FloatTensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Reading every tensor of a 64 MB float32 safetensors file (16 x 1M floats, page cache warm):
 * {@code safetensors} = validated header + memory-mapped, tensor-by-tensor decode to float[] with
 * the NaN/Inf check; {@code fileChannelFloats} = a plain FileChannel read of the same bytes into
 * float[] per tensor (same output, no validation): the baseline, target ratio at least 0.8;
 * {@code fileChannelBytes} = the same bytes into one reused buffer, nothing decoded (I/O ceiling).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class SafetensorsReadBenchmark {
    static final int TENSORS = 16;
    static final int FLOATS = 1 << 20;

    Path dir;
    Path file;
    ByteBuffer reusable;

    @Setup(Level.Trial)
    public void writeFile() throws IOException {
        dir = Files.createTempDirectory("st-bench");
        file = dir.resolve("model.safetensors");
        SplittableRandom random = new SplittableRandom(1);
        Map<String, FloatTensor> tensors = new LinkedHashMap<>();
        for (int t = 0; t < TENSORS; t++) {
            float[] data = new float[FLOATS];
            for (int i = 0; i < data.length; i++) {
                data[i] = (float) random.nextGaussian();
            }
            tensors.put(String.format("layer.%02d.weight", t), new FloatTensor(new int[] {1024, 1024}, data));
        }
        SafetensorsWriter.write(file, tensors, Map.of());
        reusable = ByteBuffer.allocateDirect(FLOATS * 4);
    }

    @TearDown(Level.Trial)
    public void delete() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Benchmark
    public void safetensors(Blackhole bh) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (TensorInfo t : f.tensors()) {
                FloatTensor tensor = f.readFloat(t.name());
                bh.consume(tensor.data()[tensor.data().length - 1]);
            }
        }
    }

    /** Baseline with the same output: FileChannel.read of each tensor's bytes, then float[] (no checks). */
    @Benchmark
    public void fileChannelFloats(Blackhole bh) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long pos = 8 + len.getLong(0);
            for (int t = 0; t < TENSORS; t++) {
                ByteBuffer buf = ByteBuffer.allocate(FLOATS * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                while (buf.hasRemaining()) {
                    pos += ch.read(buf, pos);
                }
                float[] data = new float[FLOATS];
                buf.flip().asFloatBuffer().get(data);
                bh.consume(data[FLOATS - 1]);
            }
        }
    }

    /** I/O ceiling: the same bytes into one reused direct buffer, nothing decoded. */
    @Benchmark
    public void fileChannelBytes(Blackhole bh) throws IOException {
        long headerEnd;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            headerEnd = 8 + len.getLong(0);
            long pos = headerEnd;
            long end = ch.size();
            while (pos < end) {
                reusable.clear();
                int n = ch.read(reusable, pos);
                pos += n;
                bh.consume(reusable.get(0));
            }
        }
    }
}
