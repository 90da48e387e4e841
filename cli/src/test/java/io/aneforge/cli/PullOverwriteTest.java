package io.aneforge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.cli.manifest.VariantsManifest;
import io.aneforge.cli.pull.PullDirectory;
import io.aneforge.testsupport.models.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code pull} names a package by its build id, which names neither the model nor the version. In the flat layout
 * (one {@code --out}), another model's or version's package of the same build is refused instead of replacing the
 * first, unless asked for; in the model layout (the default) each model has its own directory, where the model's other
 * version replaces the one in place. Against the real registry, with two tiny models converted to the same build.
 */
class PullOverwriteTest {

    static final String PACKAGE = "ios16-ane-fp16-s12.mlpackage";

    @TempDir
    static Path dir;
    static Map<String, String> env;
    static Path first;
    static Path second;
    static String firstDigest;
    static String secondDigest;

    @BeforeAll
    static void publish() throws Exception {
        env = TestRegistry.env();
        Path recipe = dir.resolve("one.yaml");
        Files.writeString(recipe, "variants:\n  - {chips: all, layout: ane, precision: fp16}\n");
        first = convert(TinyModels.bert(dir.resolve("bert-a"), 4101), recipe, "first");
        second = convert(TinyModels.bert(dir.resolve("bert-b"), 4102), recipe, "second");
        firstDigest = "sha256:" + VariantsManifest.read(first.resolve("variants.json")).variants().get(0).sha256();
        secondDigest = "sha256:" + VariantsManifest.read(second.resolve("variants.json")).variants().get(0).sha256();
        assertThat(firstDigest).isNotEqualTo(secondDigest);
        publish("pull-a", first); // v1
        publish("pull-b", second); // v1
        publish("pull-a", second); // v2: the same build, other bytes
    }

    static Path convert(Path model, Path recipe, String name) {
        Path out = dir.resolve(name);
        Cli c = Cli.run("convert", "--source", model.toString(), "--out", out.toString(), "--chips", "M4", "--recipe",
                recipe.toString(), "--seq-len", "12", "--samples", "0", "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(out.resolve(PACKAGE)).isDirectory();
        return out;
    }

    /**
     * Without golden data, so the version's jobs are cancelled: the registry (and its job queue) is shared with the
     * other test classes of this JVM, whose agents must not lease these models' jobs.
     */
    static void publish(String model, Path converted) {
        Cli p = Cli.run(env, "publish", "--model", model, "--dir", converted.toString(), "--without-golden-data",
                "--reason", "pull test: nothing to measure");
        assertThat(p.code()).as(p.toString()).isZero();
    }

    static Cli pull(Path out, String model, int version, String... more) {
        List<String> args = new ArrayList<>(List.of("pull", "--model", model, "--version", String.valueOf(version),
                "--chip", "M4", "--os", "18.0", "--out", out.toString()));
        args.addAll(List.of(more));
        return Cli.run(env, args.toArray(String[]::new));
    }

    static void assertHolds(Path pkg, Path converted) throws Exception {
        assertThat(PullDirectory.sameContent(pkg, converted.resolve(PACKAGE))).as(pkg + " holds " + converted).isTrue();
    }

    static List<String> names(Path out) throws Exception {
        try (Stream<Path> s = Files.list(out)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void anotherModelsPackageOfTheSameBuildIsRefusedUnlessAskedFor() throws Exception {
        Path out = dir.resolve("models");
        Cli a = pull(out, "pull-a", 1, "--out-layout", "flat");
        assertThat(a.code()).as(a.toString()).isZero();
        assertHolds(out.resolve(PACKAGE), first);
        Cli again = pull(out, "pull-a", 1, "--out-layout", "flat");
        assertThat(again.code()).as("the same package again is no overwrite: " + again).isZero();
        assertThat(again.out()).doesNotContain("replaced");

        Cli b = pull(out, "pull-b", 1, "--out-layout", "flat");
        assertThat(b.code()).as(b.toString()).isEqualTo(2);
        assertThat(b.err()).isEqualTo("aneforge pull: " + out.resolve(PACKAGE) + " holds pull-a v1 ("
                + firstDigest.substring(0, 19) + "…) from an earlier pull, and this pull is pull-b v1 ("
                + secondDigest.substring(0, 19) + "…), whose package has the same name (its build id, which names neither "
                + "the model nor the version): nothing was replaced. Pass --replace to replace it, --name <name>.mlpackage "
                + "to keep both, or another --out\n");
        assertHolds(out.resolve(PACKAGE), first);
        assertThat(names(out)).as("no temporary left").containsExactly(PullDirectory.RECORDS, PACKAGE);

        Cli version2 = pull(out, "pull-a", 2, "--out-layout", "flat");
        assertThat(version2.code()).as(version2.toString()).isEqualTo(2);
        assertThat(version2.err()).contains("holds pull-a v1 (").contains("this pull is pull-a v2 (")
                .endsWith(" or another --out (or --out-layout model, where the model's other version replaces the one in "
                        + "place)\n");
        assertHolds(out.resolve(PACKAGE), first);

        Cli both = pull(out, "pull-b", 1, "--name", "B.mlpackage");
        assertThat(both.code()).as(both.toString()).isZero();
        assertHolds(out.resolve("B.mlpackage"), second);
        assertHolds(out.resolve(PACKAGE), first);

        Cli replaced = pull(out, "pull-b", 1, "--replace", "--json", "--out-layout", "flat");
        assertThat(replaced.code()).as(replaced.toString()).isZero();
        JsonNode j = JsonMapper.shared().readTree(replaced.out());
        assertThat(j.get("replaced").get("model").asString()).isEqualTo("pull-a");
        assertThat(j.get("replaced").get("version").asInt()).isEqualTo(1);
        assertThat(j.get("replaced").get("digest").asString()).isEqualTo(firstDigest);
        assertHolds(out.resolve(PACKAGE), second);

        Cli text = pull(out, "pull-a", 1, "--replace", "--out-layout", "flat");
        assertThat(text.code()).as(text.toString()).isZero();
        assertThat(text.out()).contains("replaced " + out.resolve(PACKAGE) + ", which held pull-b v1 ("
                + secondDigest.substring(0, 19) + "…)\n");
        assertHolds(out.resolve(PACKAGE), first);
    }

    /** --name is the stable name an app build pulls into: it follows the model's versions, not another model. */
    @Test
    void nameReplacesTheSameModelsPackageButNotAnotherModels() throws Exception {
        Path out = dir.resolve("named");
        assertThat(pull(out, "pull-a", 1, "--name", "Encoder.mlpackage").code()).isZero();
        Cli other = pull(out, "pull-b", 1, "--name", "Encoder.mlpackage");
        assertThat(other.code()).as(other.toString()).isEqualTo(2);
        assertThat(other.err()).contains("holds pull-a v1 (").contains("this pull is pull-b v1 (")
                .contains(", asked for under the same --name: nothing was replaced. Pass --replace to replace it, another "
                        + "--name to keep both, or another --out");
        assertHolds(out.resolve("Encoder.mlpackage"), first);

        Cli v2 = pull(out, "pull-a", 2, "--name", "Encoder.mlpackage");
        assertThat(v2.code()).as(v2.toString()).isZero();
        assertThat(v2.out()).contains("replaced pull-a v1 (" + firstDigest.substring(0, 19) + "…) by v2 ("
                + secondDigest.substring(0, 19) + "…) in " + out.resolve("Encoder.mlpackage") + "\n");
        assertHolds(out.resolve("Encoder.mlpackage"), second);
        JsonNode record = JsonMapper.shared().readTree(out.resolve(PullDirectory.RECORDS).resolve("Encoder.mlpackage.json")
                .toFile());
        assertThat(record.propertyNames()).containsExactly("model", "version", "digest", "files");
        assertThat(record.get("files").asString()).isEqualTo(PullDirectory.fingerprint(out.resolve("Encoder.mlpackage")));
        assertThat(record.get("model").asString()).isEqualTo("pull-a");
        assertThat(record.get("version").asInt()).isEqualTo(2);
    }

    /** A package from before the records (or put there by hand) is compared file by file. */
    @Test
    void anUnrecordedPackageIsReplacedOnlyWhenItIsTheSame() throws Exception {
        Path out = dir.resolve("unrecorded");
        assertThat(pull(out, "pull-a", 1, "--out-layout", "flat").code()).isZero();
        ConvertCommand.delete(out.resolve(PullDirectory.RECORDS));
        Cli same = pull(out, "pull-a", 1, "--out-layout", "flat");
        assertThat(same.code()).as(same.toString()).isZero();
        assertThat(same.out()).doesNotContain("replaced");

        ConvertCommand.delete(out.resolve(PullDirectory.RECORDS));
        Cli other = pull(out, "pull-b", 1, "--out-layout", "flat");
        assertThat(other.code()).as(other.toString()).isEqualTo(2);
        assertThat(other.err()).contains(out.resolve(PACKAGE) + " holds another package, which no pull recorded (an older "
                + "aneforge pulled it, or it was put there by hand), and this pull is pull-b v1 (");
        assertHolds(out.resolve(PACKAGE), first);

        // --name replaced whatever was there before the records; it still replaces an unrecorded package, and says so
        Files.move(out.resolve(PACKAGE), out.resolve("Encoder.mlpackage"));
        Cli named = pull(out, "pull-b", 1, "--name", "Encoder.mlpackage");
        assertThat(named.code()).as(named.toString()).isZero();
        assertThat(named.out()).contains("replaced " + out.resolve("Encoder.mlpackage") + ", which held a package no pull "
                + "recorded\n");
        assertHolds(out.resolve("Encoder.mlpackage"), second);
    }

    /**
     * The record says what a pull unpacked, not what is there now: a package of the same name put in its place
     * since (rebuilt, hand-tuned) is not replaced by pulling the recorded alias again, unless asked for.
     */
    @Test
    void aPackageChangedSinceItWasPulledIsRefusedUnlessAskedFor() throws Exception {
        Path out = dir.resolve("changed");
        assertThat(pull(out, "pull-a", 1, "--out-layout", "flat").code()).isZero();
        ConvertCommand.delete(out.resolve(PACKAGE));
        ConvertForceTest.copyTree(second.resolve(PACKAGE), out.resolve(PACKAGE)); // by hand, of the same build name

        Cli again = pull(out, "pull-a", 1, "--out-layout", "flat");
        assertThat(again.code()).as(again.toString()).isEqualTo(2);
        assertThat(again.err()).isEqualTo("aneforge pull: " + out.resolve(PACKAGE) + " was pulled as pull-a v1 ("
                + firstDigest.substring(0, 19) + "…), which this pull is too, but its files changed since (rebuilt or put "
                + "there by hand?): nothing was replaced. Pass --replace to replace it with the pulled package, "
                + "--name <name>.mlpackage to keep both, or another --out\n");
        assertHolds(out.resolve(PACKAGE), second);

        Cli replaced = pull(out, "pull-a", 1, "--replace", "--json", "--out-layout", "flat");
        assertThat(replaced.code()).as(replaced.toString()).isZero();
        JsonNode j = JsonMapper.shared().readTree(replaced.out());
        assertThat(j.get("replaced").get("model").asString()).isEqualTo("pull-a");
        assertThat(j.get("replaced").get("changedSincePull").asBoolean()).isTrue();
        assertHolds(out.resolve(PACKAGE), first);
    }

    static Path inModel(Path out, String model) {
        return out.resolve(model).resolve(PACKAGE);
    }

    static String short19(String digest) {
        return digest.substring(0, 19) + "…";
    }

    /**
     * The model layout: one directory per model, where another version of the model (an alias that moved, either
     * way) replaces the one in place and says so, and another model's package has a path of its own.
     */
    @Test
    void theModelLayoutReplacesTheModelsEarlierVersionInPlace() throws Exception {
        Path out = dir.resolve("by-model");
        Cli a = pull(out, "pull-a", 1); // the default layout
        assertThat(a.code()).as(a.toString()).isZero();
        assertThat(a.out()).contains("unpacked " + inModel(out, "pull-a") + "\n").doesNotContain("replaced");
        assertHolds(inModel(out, "pull-a"), first);

        Cli b = pull(out, "pull-b", 1, "--out-layout", "model");
        assertThat(b.code()).as("another model of the same build has a path of its own: " + b).isZero();
        assertThat(b.err()).isEmpty();
        assertHolds(inModel(out, "pull-b"), second);
        assertHolds(inModel(out, "pull-a"), first);

        Cli v2 = pull(out, "pull-a", 2);
        assertThat(v2.code()).as(v2.toString()).isZero();
        assertThat(v2.out()).contains("replaced pull-a v1 (" + short19(firstDigest) + ") by v2 ("
                + short19(secondDigest) + ") in " + inModel(out, "pull-a") + "\n");
        assertThat(v2.err()).isEmpty();
        assertHolds(inModel(out, "pull-a"), second);
        JsonNode record = JsonMapper.shared().readTree(out.resolve("pull-a").resolve(PullDirectory.RECORDS)
                .resolve(PACKAGE + ".json").toFile());
        assertThat(record.get("version").asInt()).isEqualTo(2);
        assertThat(record.get("digest").asString()).isEqualTo(secondDigest);

        Cli back = pull(out, "pull-a", 1, "--out-layout", "model", "--json");
        assertThat(back.code()).as("an alias moved back: " + back).isZero();
        JsonNode j = JsonMapper.shared().readTree(back.out());
        assertThat(j.get("path").asString()).isEqualTo(inModel(out, "pull-a").toString());
        assertThat(j.get("outLayout").asString()).isEqualTo("model");
        assertThat(j.get("replaced").get("version").asInt()).isEqualTo(2);
        assertThat(j.get("replaced").get("changedSincePull").asBoolean()).isFalse();
        assertHolds(inModel(out, "pull-a"), first);

        Cli again = pull(out, "pull-a", 1, "--out-layout", "model");
        assertThat(again.code()).as(again.toString()).isZero();
        assertThat(again.out()).doesNotContain("replaced");
        assertThat(names(out)).as("no temporary left").containsExactly("pull-a", "pull-b");
        assertThat(names(out.resolve("pull-a"))).containsExactly(PullDirectory.RECORDS, PACKAGE);
        assertThat(names(out.resolve("pull-a").resolve(PullDirectory.RECORDS))).containsExactly(PACKAGE + ".json");
    }

    /** What the model layout still refuses: files changed since their pull, and a package no pull recorded. */
    @Test
    void theModelLayoutRefusesChangedAndUnrecordedPackagesUnlessAskedFor() throws Exception {
        Path out = dir.resolve("by-model-changed");
        assertThat(pull(out, "pull-a", 1, "--out-layout", "model").code()).isZero();
        Path tuned = inModel(out, "pull-a").resolve("tuned.txt");
        Files.writeString(tuned, "by hand");

        Cli v2 = pull(out, "pull-a", 2, "--out-layout", "model");
        assertThat(v2.code()).as(v2.toString()).isEqualTo(2);
        assertThat(v2.err()).isEqualTo("aneforge pull: " + inModel(out, "pull-a") + " was pulled as pull-a v1 ("
                + short19(firstDigest) + "), but its files changed since (rebuilt or put there by hand?), and this pull "
                + "is pull-a v2 (" + short19(secondDigest) + "): nothing was replaced. Pass --replace to replace it with "
                + "the pulled package, --name <name>.mlpackage to keep both, or another --out\n");
        assertThat(tuned).hasContent("by hand");

        Cli replaced = pull(out, "pull-a", 2, "--out-layout", "model", "--replace");
        assertThat(replaced.code()).as(replaced.toString()).isZero();
        assertThat(replaced.out()).contains("replaced " + inModel(out, "pull-a") + ", which held pull-a v1 ("
                + short19(firstDigest) + "), changed since that pull\n");
        assertHolds(inModel(out, "pull-a"), second);

        ConvertCommand.delete(out.resolve("pull-a").resolve(PullDirectory.RECORDS));
        Cli unrecorded = pull(out, "pull-a", 1, "--out-layout", "model");
        assertThat(unrecorded.code()).as(unrecorded.toString()).isEqualTo(2);
        assertThat(unrecorded.err()).isEqualTo("aneforge pull: " + inModel(out, "pull-a") + " holds another package, "
                + "which no pull recorded (an older aneforge pulled it, or it was put there by hand), and this pull is "
                + "pull-a v1 (" + short19(firstDigest) + "), whose package has the same name in pull-a's directory: "
                + "nothing was replaced. Pass --replace to replace it, --name <name>.mlpackage to keep both, or another "
                + "--out\n");
        assertHolds(inModel(out, "pull-a"), second);
    }

    /** A package the flat layout left in --out itself is named: an app bundling --out would ship the model twice. */
    @Test
    void theModelLayoutNamesTheModelsPackagesOfTheFlatLayout() throws Exception {
        Path out = dir.resolve("from-flat");
        assertThat(pull(out, "pull-a", 1, "--out-layout", "flat").code()).isZero();
        assertThat(pull(out, "pull-b", 1, "--out-layout", "flat", "--name", "B.mlpackage").code()).isZero();
        Cli model = pull(out, "pull-a", 2, "--out-layout", "model");
        assertThat(model.code()).as(model.toString()).isZero();
        assertThat(model.err()).isEqualTo("aneforge pull: note: " + out + " also holds " + PACKAGE + " (pull-a v1 ("
                + short19(firstDigest) + ")), pulled in the flat layout: an app that bundles " + out + " ships pull-a "
                + "twice; remove it, or pass --out-layout flat to pull into " + out + " itself\n");
        assertHolds(inModel(out, "pull-a"), second);
        assertHolds(out.resolve(PACKAGE), first);
    }

    @Test
    void aLayoutThatIsNoneIsRefusedBeforeAnyRequest() {
        Cli bad = pull(dir.resolve("bad-layout"), "pull-a", 1, "--out-layout", "tree");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).isEqualTo("aneforge pull: --out-layout must be model or flat (got 'tree')\n");
        Cli pkg = pull(dir.resolve("bad-layout"), "x.mlpackage", 1, "--out-layout", "model");
        assertThat(pkg.code()).isEqualTo(2);
        assertThat(pkg.err()).isEqualTo("aneforge pull: model x.mlpackage cannot have a directory of its own in --out: "
                + "its name ends in .mlpackage, so Xcode would take the directory for a package: pass --out-layout flat\n");
        assertThat(dir.resolve("bad-layout")).doesNotExist();
    }
}
