package io.aneforge.agent.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.condition.OS.LINUX;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.io.TempDir;

class PidNamespaceTest {

    @TempDir
    Path dir;

    @Test
    void theNamespaceIsTheLinksTargetAndNoneWhereThereIsNoLink() throws IOException {
        Path link = Files.createSymbolicLink(dir.resolve("pid"), Path.of("pid:[4026532512]"));
        assertThat(PidNamespace.of(link)).contains("pid:[4026532512]");
        assertThat(PidNamespace.of(dir.resolve("none"))).as("macOS, or a kernel before 3.8").isEmpty();
    }

    @Test
    @EnabledOnOs(LINUX)
    void thisProcesssNamespaceIsReadFromProc() throws IOException {
        assertThat(PidNamespace.current()).contains(Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString());
        assertThat(PidNamespace.current().orElseThrow()).matches("pid:\\[\\d+]");
    }
}
