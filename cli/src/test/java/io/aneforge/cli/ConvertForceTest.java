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

    /**
     * A variants.json naming files outside the directory, or in a shape convert does not write for the role the name
     * has there, removes none of them: variants.json is plain data a user may edit, or copy with the directory.
     */
    @Test
    void onlyFilesInTheShapeConvertWritesAreRemoved() throws Exception {
        Path out = olderConvert("edited");
        Path outside = dir.resolve("outside.mlpackage");
        Files.createDirectories(outside);
        Files.writeString(outside.resolve("Manifest.json"), "{}");
        Files.writeString(out.resolve("README.md"), "# mine");
        // an archive of the recorded size but other bytes, as a hand-made one of the same name would be
        byte[] zip = Files.readAllBytes(out.resolve(VARIANT + ".mlpackage.zip"));
        zip[zip.length / 2] ^= 1;
        Files.write(out.resolve("other.mlpackage.zip"), zip);
        // a package named like another build than the one its metadata names
        copyTree(out.resolve(VARIANT + ".mlpackage"), out.resolve("ios18-ane-fp16-s8.mlpackage"));
        ObjectNode m = (ObjectNode) JsonMapper.shared().readTree(out.resolve("variants.json").toFile());
        ArrayNode variants = (ArrayNode) m.get("variants");
        ObjectNode escaping = (ObjectNode) variants.get(0).deepCopy();
        escaping.put("path", "../outside.mlpackage").put("archive", "notes.txt");
        ObjectNode userFiles = (ObjectNode) variants.get(0).deepCopy();
        userFiles.put("path", "README.md").put("archive", "other.mlpackage.zip");
        ObjectNode otherBuild = (ObjectNode) variants.get(0).deepCopy();
        otherBuild.put("id", "m4-ios18-ane-fp16-s8").put("path", "ios18-ane-fp16-s8.mlpackage").put("archive", "x.mlpackage.zip");
        ObjectNode notNamedByItsVariant = (ObjectNode) variants.get(0).deepCopy();
        notNamedByItsVariant.put("path", "mine.mlpackage");
        variants.add(escaping).add(userFiles).add(otherBuild).add(notNamedByItsVariant);
        Files.writeString(out.resolve("variants.json"), m.toString());
        Files.delete(out.resolve(VARIANT + ".mlpackage/Manifest.json")); // no longer a package

        Cli c = convert(out, "1", "--force");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.out()).contains("removed 1 of the earlier convert's files in " + out + " that this run does not write: "
                        + VARIANT + ".mlpackage.zip\n")
                .contains(kept(out, VARIANT + ".mlpackage") + "not a package directory with Manifest.json")
                .contains(kept(out, "notes.txt") + "an entry's archive, but not a .mlpackage.zip name")
                .contains(kept(out, "../outside.mlpackage") + "not a name in " + out)
                .contains(kept(out, "README.md") + "an entry's path, but not a .mlpackage name")
                .contains(kept(out, "other.mlpackage.zip") + "its sha256 differs from the one variants.json recorded")
                .contains(kept(out, "ios18-ane-fp16-s8.mlpackage") + "its metadata names build " + BUILD
                        + ", not the entry's variant m4-ios18-ane-fp16-s8")
                .contains(kept(out, "mine.mlpackage") + "named neither by its entry's variant " + VARIANT
                        + " nor by that variant's build");
        assertThat(outside.resolve("Manifest.json")).exists();
        assertThat(out.resolve("notes.txt")).hasContent("mine");
        assertThat(out.resolve("README.md")).hasContent("# mine");
        assertThat(out.resolve("other.mlpackage.zip")).hasBinaryContent(zip);
        assertThat(out.resolve("ios18-ane-fp16-s8.mlpackage/Manifest.json")).isRegularFile();
        assertThat(out.resolve("mine.mlpackage/Manifest.json")).hasContent("{}");
        assertThat(out.resolve(VARIANT + ".mlpackage")).isDirectory();
    }

    /** Golden data is removed only under convert's own names and with the bytes variants.json recorded. */
    @Test
    void goldenDataIsRemovedOnlyUnderItsNameAndWithItsRecordedSha256() throws Exception {
        Path out = olderConvert("golden");
        Files.writeString(out.resolve("train.csv"), "text,label\n");
        ObjectNode m = (ObjectNode) JsonMapper.shared().readTree(out.resolve("variants.json").toFile());
        ((ObjectNode) m.get("golden")).put("inputs", "train.csv");
        Files.writeString(out.resolve("variants.json"), m.toString());
        Files.write(out.resolve("golden-outputs.bin"), new byte[] {1, 2, 3}, java.nio.file.StandardOpenOption.APPEND);

        Cli c = convert(out, "0", "--force");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.out()).contains("removed 2 of the earlier convert's files in " + out + " that this run does not write: "
                        + VARIANT + ".mlpackage, " + VARIANT + ".mlpackage.zip\n")
                .contains(kept(out, "train.csv") + "golden data, but not convert's name for it (golden-inputs.bin)")
                .contains(kept(out, "golden-outputs.bin") + "its sha256 differs from the one variants.json recorded");
        assertThat(out.resolve("train.csv")).hasContent("text,label\n");
        assertThat(out.resolve("golden-outputs.bin")).isRegularFile();
        assertThat(out.resolve("golden-inputs.bin")).as("not named by variants.json any more, so not a candidate").isRegularFile();
    }

    static String kept(Path out, String name) {
        return "note: kept " + out.resolve(name) + ", which the earlier convert's variants.json names: ";
    }

    static void copyTree(Path from, Path to) throws Exception {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Files.copy(p, to.resolve(from.relativize(p).toString()));
            }
        }
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
