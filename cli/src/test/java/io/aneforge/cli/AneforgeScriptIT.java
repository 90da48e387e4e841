package io.aneforge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.cli.manifest.VariantsManifest;
import io.aneforge.testsupport.models.TinyModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the {@code ./aneforge} script the way users do. Bound to the package phase (see cli/pom.xml)
 * because it needs the built jar and target/lib; ANEFORGE_NO_BUILD keeps the script from starting a
 * nested Maven build if they were stale.
 */
@Tag("script")
class AneforgeScriptIT {

    @TempDir
    Path dir;

    static final String INCUBATOR_WARNING = "WARNING: Using incubator modules: jdk.incubator.vector\n";

    record Run(int code, String out, String err) {
    }

    static Run script(String... args) throws Exception {
        Path root = Path.of("").toAbsolutePath().getParent();
        List<String> cmd = new java.util.ArrayList<>(List.of(root.resolve("aneforge").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(root.toFile());
        pb.environment().put("ANEFORGE_NO_BUILD", "1");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        return new Run(p.exitValue(), out, err);
    }

    @Test
    void scriptConvertsAndReportsErrorsWithExitCodes() throws Exception {
        Run v = script("--version");
        assertThat(v.code()).as(v.err()).isZero();
        assertThat(v.out()).startsWith("aneforge 0.1.0-SNAPSHOT");

        Path bert = TinyModels.bert(dir.resolve("bert"), 2);
        Path out = dir.resolve("out");
        Run c = script("convert", "--source", bert.toString(), "--out", out.toString(), "--chips", "M4", "--seq-len", "8",
                "--samples", "1");
        assertThat(c.code()).as(c.out() + c.err()).isZero();
        // Output is a pipe here, so plain lines and no carriage returns.
        assertThat(c.out()).contains("[3/3] ios16-standard-fp16-s8").doesNotContain("\r");
        assertThat(VariantsManifest.read(out.resolve("variants.json")).variants()).hasSize(3);

        Run bad = script("convert", "--source", bert.toString(), "--out", dir.resolve("x").toString(), "--chips", "M9");
        assertThat(bad.code()).isEqualTo(2);
        // The script starts the JVM with the incubator Vector API, which makes the JVM print one warning line first.
        assertThat(bad.err()).startsWith(INCUBATOR_WARNING);
        assertThat(bad.err().substring(INCUBATOR_WARNING.length())).isEqualTo("aneforge convert: unknown chip 'M9': use catalog ids [A14, A15, A16, A17_PRO, A18, "
                + "A18_PRO, M1, M2, M3, M4]\n");
    }
}
