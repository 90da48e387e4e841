package io.aneforge.cli.convert;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.cli.AneForge;
import io.aneforge.testsupport.models.TinyModels;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@link PreviousOutput}'s removal where the file system, not variants.json, is the problem: a name that is this
 * run's output under another spelling, and a removal that fails half-way.
 */
class PreviousOutputTest {

    static final String BUILD = "ios16-ane-fp16-s8";
    static final List<String> REWRITTEN = List.of(BUILD + ".mlpackage", BUILD + ".mlpackage.zip", "tokenizer.json",
            "variants.json");

    @TempDir
    static Path dir;
    static Path bert;
    static Path recipe;

    @BeforeAll
    static void model() throws Exception {
        bert = TinyModels.bert(dir.resolve("bert"), 3);
        recipe = dir.resolve("one.yaml");
        Files.writeString(recipe, "variants:\n  - {chips: all, layout: ane, precision: fp16}\n");
    }

    /** A convert's output in {@code name}, with its variants.json's entry pointing at {@code path} and {@code archive}. */
    static Path converted(String name, String path, String archive) throws Exception {
        Path out = dir.resolve(name);
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = AneForge.run(new PrintWriter(o, true), new PrintWriter(e, true), "convert", "--source", bert.toString(),
                "--out", out.toString(), "--chips", "M4", "--recipe", recipe.toString(), "--seq-len", "8", "--samples",
                "0", "--progress", "plain");
        assertThat(code).as(o + "\n" + e).isZero();
        ObjectNode m = (ObjectNode) JsonMapper.shared().readTree(out.resolve("variants.json").toFile());
        ((ObjectNode) m.get("variants").get(0)).put("path", path).put("archive", archive);
        Files.writeString(out.resolve("variants.json"), m.toString());
        return out;
    }

    /**
     * On a case-insensitive file system (macOS's default) {@code IOS16-….mlpackage.zip} is the archive this run just
     * wrote; a hard link stands in for that here: the same file under a name variants.json gives.
     */
    @Test
    void theSameFileAsOneThisRunWroteStays() throws Exception {
        Path out = converted("case", BUILD + ".mlpackage", BUILD.toUpperCase() + ".mlpackage.zip");
        Files.createLink(out.resolve(BUILD.toUpperCase() + ".mlpackage.zip"), out.resolve(BUILD + ".mlpackage.zip"));

        PreviousOutput.Removal r = PreviousOutput.in(out).removeAllBut(REWRITTEN);

        assertThat(r.removed()).isEmpty();
        assertThat(r.kept()).isEmpty();
        assertThat(out.resolve(BUILD.toUpperCase() + ".mlpackage.zip")).isRegularFile();
    }

    /** A package whose removal fails half-way is no longer under its name, and the output says where the rest is. */
    @Test
    void aRemovalThatFailsHalfWayLeavesNoBrokenPackageUnderItsName() throws Exception {
        Path out = converted("partly", "m4-" + BUILD + ".mlpackage", "m4-" + BUILD + ".mlpackage.zip");
        Files.move(out.resolve(BUILD + ".mlpackage"), out.resolve("m4-" + BUILD + ".mlpackage"));
        copyTree(out.resolve("m4-" + BUILD + ".mlpackage"), out.resolve(BUILD + ".mlpackage"));
        AtomicInteger deletes = new AtomicInteger();

        PreviousOutput.Removal r = PreviousOutput.in(out).removeAllBut(REWRITTEN, p -> {
            if (deletes.incrementAndGet() == 2) {
                throw new IOException("injected: the disk went read-only");
            }
            Files.delete(p);
        });

        assertThat(r.removed()).isEmpty();
        assertThat(r.kept()).isEmpty();
        assertThat(r.partly()).containsOnlyKeys("m4-" + BUILD + ".mlpackage");
        String why = r.partly().get("m4-" + BUILD + ".mlpackage");
        assertThat(why).contains("injected: the disk went read-only").contains("remove that by hand");
        assertThat(out.resolve("m4-" + BUILD + ".mlpackage")).as("no package without its manifest under the name")
                .doesNotExist();
        try (Stream<Path> s = Files.list(out)) {
            Path aside = s.filter(p -> p.getFileName().toString().startsWith(PreviousOutput.REMOVING_PREFIX))
                    .findFirst().orElseThrow();
            assertThat(why).contains(aside.toString());
        }
        assertThat(out.resolve(BUILD + ".mlpackage/Manifest.json")).as("this run's package").isRegularFile();
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Files.copy(p, to.resolve(from.relativize(p).toString()));
            }
        }
    }
}
