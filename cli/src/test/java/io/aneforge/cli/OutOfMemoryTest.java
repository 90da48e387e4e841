package io.aneforge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Target;
import io.aneforge.mil.Var;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.testsupport.models.TinyModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JVM that runs out of heap still ends with the command line's one-line error, naming the heap and the
 * option that raises it, and exit 1 (an {@link OutOfMemoryError} is not an Exception: picocli's handler never
 * saw it, and the JVM printed a stack trace). The command runs in a JVM of its own with a 64 MB heap.
 */
class OutOfMemoryTest {

    @TempDir
    Path dir;

    @Test
    void runningOutOfHeapIsOneLineWithTheFix() throws Exception {
        // 16 MB of fp16 weights: they are read (the reader checks they fit), then decoded at load into a 32 MB float
        // copy, which a 64 MB heap does not have room for. The intermediates are small (4 MB), so the runtime's static
        // check lets the program through.
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var ids = b.input("input_ids", DType.INT32, 1, 8);
        b.input("attention_mask", DType.INT32, 1, 8);
        Var w = b.constant("w", Constant.fp16(new float[8 << 20], 8, 1 << 20));
        Path pkg = dir.resolve("big.mlpackage");
        MlPackage.write(b.build(b.matmul(b.cast(ids, DType.FP16), w, false, false)), pkg);
        Path bert = TinyModels.bert(dir.resolve("bert"), 1);

        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(List.of(java.toString(), "-Xmx64m", "-XX:+UseSerialGC", "-cp",
                System.getProperty("java.class.path"), AneForge.class.getName(), "predict", "--package", pkg.toString(),
                "--text", "hello", "--tokenizer", bert.resolve("tokenizer.json").toString())).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(out + err).isEqualTo(1);
        // the test classpath has two SLF4J providers, and SLF4J says so on stderr; the rest is one line, no stack trace
        List<String> lines = err.lines().filter(l -> !l.startsWith("SLF4J")).toList();
        assertThat(lines).as(err).hasSize(1);
        assertThat(lines.get(0)).matches("aneforge predict: out of memory \\(Java heap space\\) with a heap of at most \\d+ MiB:"
                + " run with a larger heap, e\\.g\\. ANEFORGE_JAVA_OPTS=-Xmx1g \\./aneforge \\.\\.\\.");
    }
}
