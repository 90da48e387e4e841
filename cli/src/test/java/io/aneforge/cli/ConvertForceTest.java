package io.aneforge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.testsupport.models.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code convert --force} into the directory of an earlier convert removes what that convert wrote and this one
 * does not (as its variants.json lists it), and nothing else.
 */
class ConvertForceTest {

    static final String VARIANT = "m4-ios16-ane-fp16-s8";
    static final String BUILD = "ios16-ane-fp16-s8";

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

    static Cli convert(Path out, String samples, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("convert", "--source", bert.toString(), "--out",
                out.toString(), "--chips", "M4", "--recipe", recipe.toString(), "--seq-len", "8", "--samples", samples,
                "--progress", "plain"));
        args.addAll(List.of(more));
        return Cli.run(args.toArray(String[]::new));
    }

    /**
     * What a convert from before shared builds left: its one variant's package and archive named by the variant id,
     * golden data, and beside them files that are not convert's.
     */
    static Path olderConvert(String name) throws Exception {
        Path out = dir.resolve(name);
        Cli c = convert(out, "1");
        assertThat(c.code()).as(c.toString()).isZero();
        Files.move(out.resolve(BUILD + ".mlpackage"), out.resolve(VARIANT + ".mlpackage"));
        Files.move(out.resolve(BUILD + ".mlpackage.zip"), out.resolve(VARIANT + ".mlpackage.zip"));
        ObjectNode m = (ObjectNode) JsonMapper.shared().readTree(out.resolve("variants.json").toFile());
        ((ObjectNode) m.get("variants").get(0)).put("path", VARIANT + ".mlpackage").put("archive", VARIANT + ".mlpackage.zip");
        Files.writeString(out.resolve("variants.json"), m.toString());
        Files.writeString(out.resolve("notes.txt"), "mine");
        Files.createDirectories(out.resolve("mine.mlpackage"));
        Files.writeString(out.resolve("mine.mlpackage/Manifest.json"), "{}");
        return out;
    }

    static List<String> names(Path out) throws Exception {
        try (Stream<Path> s = Files.list(out)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void forceRemovesWhatTheEarlierConvertWroteAndThisOneDoesNot() throws Exception {
        Path out = olderConvert("older");
        Cli c = convert(out, "0", "--force");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.out()).contains("removed 4 of the earlier convert's files in " + out + " that this run does not write: "
                + VARIANT + ".mlpackage, " + VARIANT + ".mlpackage.zip, golden-inputs.bin, golden-outputs.bin\n");
        // --samples 0 writes no golden data: the earlier run's would have stayed beside a variants.json without it
        assertThat(names(out)).containsExactly(BUILD + ".mlpackage", BUILD + ".mlpackage.zip", "mine.mlpackage",
                "notes.txt", "tokenizer.json", "variants.json");
        assertThat(out.resolve("notes.txt")).hasContent("mine");

        Cli again = convert(out, "0", "--force");
        assertThat(again.code()).as(again.toString()).isZero();
        assertThat(again.out()).as("the same names again: nothing to remove").doesNotContain("removed").doesNotContain("note: kept");
    }

    @Test
    void withoutForceTheDirectoryIsRefusedAndUnchanged() throws Exception {
        Path out = olderConvert("unforced");
        List<String> before = names(out);
        Cli c = convert(out, "0");
        assertThat(c.code()).as(c.toString()).isEqualTo(2);
        assertThat(c.err()).contains("pass --force to replace it");
        assertThat(names(out)).isEqualTo(before);
    }

    /** A variants.json naming files outside the directory, or in a shape convert does not write, removes none of them. */
    @Test
    void onlyFilesInTheShapeConvertWritesAreRemoved() throws Exception {
        Path out = olderConvert("edited");
        Path outside = dir.resolve("outside.mlpackage");
        Files.createDirectories(outside);
        Files.writeString(outside.resolve("Manifest.json"), "{}");
        ObjectNode m = (ObjectNode) JsonMapper.shared().readTree(out.resolve("variants.json").toFile());
        ArrayNode variants = (ArrayNode) m.get("variants");
        ObjectNode escaping = (ObjectNode) variants.get(0).deepCopy();
        escaping.put("path", "../outside.mlpackage").put("archive", "notes.txt");
        variants.add(escaping);
        Files.writeString(out.resolve("variants.json"), m.toString());
        Files.delete(out.resolve(VARIANT + ".mlpackage/Manifest.json")); // no longer a package

        Cli c = convert(out, "1", "--force");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.out()).contains("removed 1 of the earlier convert's files in " + out + " that this run does not write: "
                        + VARIANT + ".mlpackage.zip\n")
                .contains("note: kept " + out.resolve(VARIANT + ".mlpackage") + ", which the earlier convert's variants.json "
                        + "names: not a package directory with Manifest.json")
                .contains("note: kept " + out.resolve("notes.txt") + ", which the earlier convert's variants.json names: its "
                        + "size differs from the ")
                .contains("note: kept " + out.resolve("../outside.mlpackage") + ", which the earlier convert's variants.json "
                        + "names: not a name in " + out);
        assertThat(outside.resolve("Manifest.json")).exists();
        assertThat(out.resolve("notes.txt")).hasContent("mine");
        assertThat(out.resolve(VARIANT + ".mlpackage")).isDirectory();
    }

    @Test
    void anUnreadableVariantsJsonRemovesNothingAndSaysSo() throws Exception {
        Path out = olderConvert("unreadable");
        Files.writeString(out.resolve("variants.json"), "{\"variants\": [");
        Cli c = convert(out, "1", "--force");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.out()).contains("note: kept the files of the earlier convert in " + out + " that this run did not "
                + "replace: its variants.json could not be read (").contains("remove them by hand").doesNotContain("removed ");
        assertThat(out.resolve(VARIANT + ".mlpackage")).isDirectory();
        assertThat(out.resolve(VARIANT + ".mlpackage.zip")).isRegularFile();
    }
}
