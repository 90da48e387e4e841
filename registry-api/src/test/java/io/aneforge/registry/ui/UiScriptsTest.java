package io.aneforge.registry.ui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Runs the UI's JavaScript unit tests ({@code src/test/js/*.test.js}: number formatting next to the gates,
 * cell texts, version sources, address parsing) with node's built-in test runner, so they are part of the
 * Maven build. Skips with a message when no Node.js 18+ is on the PATH.
 */
class UiScriptsTest {

    static final Path TESTS = Path.of("src", "test", "js");

    @Test
    void nodeTestsOfTheUiScriptsPass() throws Exception {
        Optional<Path> node = onPath("node");
        assumeTrue(node.isPresent(), "skipped: no 'node' on the PATH; the UI's JavaScript tests need Node.js 18+"
                + " (Debian: apt-get install nodejs), or run them by hand: node --test registry-api/src/test/js");
        String version = run(node.get().toString(), "--version").trim();
        int major = Integer.parseInt(version.replaceFirst("^v(\\d+).*", "$1"));
        assumeTrue(major >= 18, "skipped: node " + version + " has no built-in test runner (node --test); install Node.js 18+");

        ProcessBuilder pb = new ProcessBuilder(node.get().toString(), "--test", TESTS.toString()).redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("node --test finished within 60 s").isTrue();
        assertThat(p.exitValue()).as("node --test %s:%n%s", TESTS, out).isZero();
        // a directory with no test files also exits 0: make sure the tests ran
        assertThat(out).as(out).containsPattern("# pass [1-9]").contains("# fail 0");
    }

    private static Optional<Path> onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) return Optional.empty();
        return Arrays.stream(path.split(File.pathSeparator)).map(d -> Path.of(d, name)).filter(Files::isExecutable).findFirst();
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(10, TimeUnit.SECONDS);
        return out;
    }
}
