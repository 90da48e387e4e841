package io.aneforge.agent.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

/**
 * This process's pid namespace on Linux, the one place that reads {@code /proc/self/ns/pid}: pids are numbered per
 * namespace (a container with its own numbers its processes apart), so whatever compares pids written by two
 * processes (the compiled-model cache's claim) needs it along with the host.
 */
public final class PidNamespace {

    /** A symbolic link whose target names this process's pid namespace, e.g. {@code pid:[4026531836]}. */
    static final Path SELF = Path.of("/proc/self/ns/pid");

    private PidNamespace() {}

    /** This process's pid namespace, or empty where there is none to read (macOS; Linux kernels before 3.8). */
    public static Optional<String> current() throws IOException {
        return of(SELF);
    }

    /** The namespace {@code link} names, or empty when there is no such link; another path in tests. */
    static Optional<String> of(Path link) throws IOException {
        if (!Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        return Optional.of(Files.readSymbolicLink(link).toString());
    }
}
