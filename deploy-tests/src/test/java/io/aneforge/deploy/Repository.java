package io.aneforge.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The repository checkout these tests read: docker-compose.yml, helm/, the modules' configuration. */
final class Repository {

    /** Found by walking up from the working directory (Surefire runs in deploy-tests/). */
    static final Path ROOT = findRoot();

    private Repository() {
    }

    static Path path(String relative) {
        return ROOT.resolve(relative);
    }

    static String read(String relative) {
        try {
            return Files.readString(path(relative));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + relative + " in " + ROOT, e);
        }
    }

    /** The parent pom's version, which the images and the chart's appVersion are tagged with. */
    static String projectVersion() {
        Matcher m = Pattern.compile("<artifactId>aneforge-parent</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(read("pom.xml"));
        if (!m.find()) {
            throw new IllegalStateException("no <version> after <artifactId>aneforge-parent</artifactId> in pom.xml");
        }
        return m.group(1).trim();
    }

    private static Path findRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            if (Files.isRegularFile(dir.resolve("docker-compose.yml")) && Files.isDirectory(dir.resolve("helm"))) {
                return dir;
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException("no directory holding docker-compose.yml and helm/ above "
                + Path.of("").toAbsolutePath() + "; run the tests from the repository (./mvnw -pl deploy-tests test)");
    }
}
