package io.aneforge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.cli.StubRegistry.Answer;
import io.aneforge.cli.manifest.VariantEntry;
import io.aneforge.cli.manifest.VariantsManifest;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.registry.RegistryApplication;
import io.aneforge.testsupport.models.TinyModels;
import io.aneforge.testsupport.postgres.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** convert → publish → status → resolve → pull against the real registry (PostgreSQL + embedded S3) over HTTP. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RegistryCommandsTest {

    static final String ADMIN = "cli-test-admin-token-0123456789";

    @TempDir
    static Path dir;
    static ConfigurableApplicationContext registry;
    static Map<String, String> env;
    static Path converted;
    static VariantsManifest manifest;

    @BeforeAll
    static void start() throws Exception {
        // The cli ships slf4j-simple; keep Spring Boot from insisting on Logback in this JVM.
        System.setProperty("org.springframework.boot.logging.LoggingSystem", "none");
        List<String> args = new ArrayList<>(List.of("--server.port=0", "--aneforge.admin-token=" + ADMIN,
                "--aneforge.data-dir=" + dir.resolve("data"), "--aneforge.cache-ttl=0s"));
        TestDatabase.springProperties().forEach((k, v) -> args.add("--" + k + "=" + v));
        registry = new SpringApplication(RegistryApplication.class).run(args.toArray(String[]::new));
        String url = "http://127.0.0.1:" + registry.getEnvironment().getProperty("local.server.port");
        env = Map.of("ANEFORGE_REGISTRY_URL", url, "ANEFORGE_TOKEN", ADMIN);

        Path bert = TinyModels.bert(dir.resolve("bert"), 3);
        converted = dir.resolve("converted");
        Cli c = Cli.run("convert", "--source", bert.toString(), "--out", converted.toString(), "--chips", "A17_PRO,M2",
                "--seq-len", "8", "--samples", "1", "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        manifest = VariantsManifest.read(converted.resolve("variants.json"));
    }

    @AfterAll
    static void stop() {
        if (registry != null) {
            registry.close();
        }
    }


    static Cli run(String... args) {
        return Cli.run(env, args);
    }

    @Test
    @Order(1)
    void publishUploadsRegistersPublishesAndMovesTheAlias() {
        Cli p = run("publish", "--model", "tiny-bert", "--dir", converted.toString(), "--alias", "production", "--reason", "test");
        assertThat(p.code()).as(p.toString()).isZero();
        assertThat(p.out()).contains("created model tiny-bert (task feature-extraction)")
                .contains("created draft version 1 of tiny-bert")
                .contains("golden data: 32 samples, inputs sha256:" + manifest.golden().inputsSha256().substring(0, 12))
                .contains("[6/6] m2-ios16-standard-fp16-s8")
                .contains("published version 1 of tiny-bert with 6 variants")
                .contains("alias production -> version 1");
        // The M2 variants share the A17_PRO variants' packages (they differ only in the chip): 3 archives are
        // uploaded, once each, and all 6 variants registered.
        assertThat(p.out()).contains("[4/6] m2-ios16-ane-fp16-s8  sha256:" + manifest.variants().get(0).sha256().substring(0, 12)
                        + "…  same package as a17_pro-ios16-ane-fp16-s8")
                .contains("registered 6 variants (3 distinct packages)");
        assertThat(p.out().split("…  uploaded", -1)).hasSize(4);

        Cli s = run("status", "--model", "tiny-bert", "--version", "1", "--json");
        assertThat(s.code()).as(s.toString()).isZero();
        JsonNode j = JsonMapper.shared().readTree(s.out());
        assertThat(j.get("version").get("status").asString()).isEqualTo("published");
        assertThat(j.get("version").get("source").get("type").asString()).isEqualTo("upload");
        assertThat(j.get("variants").size()).isEqualTo(6);
        JsonNode int8 = j.get("variants").get(1);
        assertThat(int8.get("precision").asString()).isEqualTo("int8");
        assertThat(int8.get("blockSize").asInt()).isEqualTo(32);
        assertThat(int8.get("deploymentTarget").asString()).isEqualTo("18.0");
        assertThat(int8.get("digest").asString()).isEqualTo("sha256:" + manifest.variants().get(1).sha256());
        for (int i = 0; i < 3; i++) {
            JsonNode a17 = j.get("variants").get(i);
            JsonNode m2 = j.get("variants").get(i + 3);
            assertThat(a17.get("chip").asString()).isEqualTo("A17_PRO");
            assertThat(m2.get("chip").asString()).isEqualTo("M2");
            assertThat(m2.get("digest").asString()).isEqualTo(a17.get("digest").asString())
                    .isEqualTo("sha256:" + manifest.variants().get(i).sha256());
        }

        Cli list = run("status", "--model", "tiny-bert");
        assertThat(list.out()).contains("tiny-bert (feature-extraction): 1 versions").contains("v1  published  upload");
    }

    @Test
    @Order(2)
    void resolveAndPullVerifyTheDigest() throws Exception {
        Cli r = run("resolve", "--model", "tiny-bert", "--device", "iPhone16,1", "--os", "17.4", "--json");
        assertThat(r.code()).as(r.toString()).isZero();
        JsonNode j = JsonMapper.shared().readTree(r.out());
        assertThat(j.get("variant").get("chip").asString()).isEqualTo("A17_PRO");
        // iOS 17.4 cannot load the ios18 block-wise variant: the ane fp16 one for iOS 16 is served.
        VariantEntry expected = manifest.variants().get(0);
        assertThat(expected.id()).isEqualTo("a17_pro-ios16-ane-fp16-s8");
        assertThat(j.get("digest").asString()).isEqualTo("sha256:" + expected.sha256());

        Path pulled = dir.resolve("pulled");
        Cli p = run("pull", "--model", "tiny-bert", "--device", "iPhone16,1", "--os", "17.4", "--out", pulled.toString(),
                "--keep-archive");
        assertThat(p.code()).as(p.toString()).isZero();
        Path pkg = pulled.resolve("tiny-bert").resolve(expected.path()); // the model layout, the default
        assertThat(MlPackage.read(pkg).metadata()).containsEntry("aneforge.build", expected.path().replace(".mlpackage", ""));
        assertThat(pulled.resolve("tiny-bert").resolve(expected.archive())).hasSameBinaryContentAs(converted.resolve(expected.archive()));
        assertThat(p.out()).contains("verified sha256 " + expected.sha256() + ", unpacked " + pkg);

        Cli text = run("resolve", "--model", "tiny-bert", "--chip", "M2", "--os", "18.0");
        assertThat(text.out()).startsWith("tiny-bert v1 (alias production): M2 ios 18.0 ane int8/32 seq 8; sha256:"
                + manifest.variants().get(4).sha256());
    }

    /** --precision / --layout become the registry's filters: fp16 on an iOS 18 device that would get int8. */
    @Test
    @Order(2)
    void resolveAndPullTakeThePrecisionAndLayoutFilters() throws Exception {
        VariantEntry standard = manifest.variants().stream().filter(v -> v.id().equals("a17_pro-ios16-standard-fp16-s8"))
                .findFirst().orElseThrow(() -> new AssertionError(manifest.variants().toString()));
        Cli fp16 = run("resolve", "--model", "tiny-bert", "--chip", "A17_PRO", "--os", "18.0", "--precision", "fp16");
        assertThat(fp16.code()).as(fp16.toString()).isZero();
        assertThat(fp16.out()).startsWith("tiny-bert v1 (alias production): A17_PRO ios 16.0 ane fp16 seq 8;");

        Path pulled = dir.resolve("pulled-standard");
        Cli p = run("pull", "--model", "tiny-bert", "--chip", "A17_PRO", "--os", "18.0", "--precision", "fp16",
                "--layout", "standard", "--out", pulled.toString());
        assertThat(p.code()).as(p.toString()).isZero();
        assertThat(MlPackage.read(pulled.resolve("tiny-bert").resolve(standard.path())).metadata()).containsEntry("aneforge.build", standard.path().replace(".mlpackage", ""));

        Cli none = run("resolve", "--model", "tiny-bert", "--chip", "A17_PRO", "--os", "18.0", "--precision", "int4");
        assertThat(none.code()).isEqualTo(1);
        assertThat(none.err()).contains("HTTP 404 no-variant-matches-filter").contains("precisions [fp16, int8-block32");
        Cli bad = run("resolve", "--model", "tiny-bert", "--chip", "A17_PRO", "--os", "18.0", "--layout", "gpu");
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("HTTP 400 invalid-parameter").contains("layout 'gpu' is not a layout; use one of [ane, standard]");
    }

    @Test
    @Order(3)
    void pullRefusesBytesThatDoNotMatchTheDigest() throws Exception {
        VariantEntry m2 = manifest.variants().get(3);
        Path stored;
        try (Stream<Path> files = Files.walk(dir.resolve("data/s3"))) {
            stored = files.filter(f -> f.getFileName().toString().equals(m2.sha256())).findFirst().orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(stored);
        bytes[bytes.length / 2] ^= 1;
        Files.write(stored, bytes);
        Path pulled = dir.resolve("tampered");
        Cli p = run("pull", "--model", "tiny-bert", "--chip", "M2", "--os", "16.0", "--out", pulled.toString());
        assertThat(p.code()).as(p.toString()).isEqualTo(1);
        assertThat(p.err()).startsWith("aneforge pull: downloaded bytes have sha256 ")
                .contains(" but the registry promised " + m2.sha256() + "; nothing was kept");
        try (Stream<Path> left = Files.list(pulled)) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    @Order(4)
    void errorsNameTheProblemAndTheFix() {
        Cli noToken = Cli.run(Map.of(), "status", "--model", "tiny-bert");
        assertThat(noToken.code()).isEqualTo(2);
        assertThat(noToken.err()).isEqualTo("aneforge status: ANEFORGE_TOKEN is not set: export ANEFORGE_TOKEN=<registry token> "
                + "(an admin mints one with POST /api/v1/tokens)\n");

        Cli badToken = Cli.run(Map.of("ANEFORGE_REGISTRY_URL", env.get("ANEFORGE_REGISTRY_URL"), "ANEFORGE_TOKEN", "wrong"),
                "status", "--model", "tiny-bert");
        assertThat(badToken.code()).isEqualTo(1);
        assertThat(badToken.err()).startsWith("aneforge status: registry answered HTTP 401 ");

        Cli unknown = run("resolve", "--model", "nope", "--chip", "M2", "--os", "18.0");
        assertThat(unknown.code()).isEqualTo(1);
        assertThat(unknown.err()).startsWith("aneforge resolve: registry answered HTTP 404 model-not-found to GET "
                + "/api/v1/models/nope/resolve?chip=M2&os=18.0: ");

        Cli tooOld = run("resolve", "--model", "tiny-bert", "--chip", "M2", "--os", "15.0");
        assertThat(tooOld.code()).isEqualTo(1);
        assertThat(tooOld.err()).contains("HTTP 422 os-too-old");

        Cli both = run("resolve", "--model", "tiny-bert", "--chip", "M2", "--device", "iPhone16,1", "--os", "18.0");
        assertThat(both.code()).isEqualTo(2);
        assertThat(both.err()).isEqualTo("aneforge resolve: pass either --device (e.g. iPhone16,1) or --chip (e.g. A17_PRO)\n");

        Cli down = Cli.run(Map.of("ANEFORGE_REGISTRY_URL", "http://127.0.0.1:1", "ANEFORGE_TOKEN", ADMIN), "status", "--model", "x");
        assertThat(down.code()).isEqualTo(1);
        assertThat(down.err()).isEqualTo("aneforge status: cannot reach the registry at http://127.0.0.1:1: start it or set "
                + "ANEFORGE_REGISTRY_URL\n");

        Cli noDir = run("publish", "--model", "tiny-bert", "--dir", dir.resolve("bert").toString());
        assertThat(noDir.code()).isEqualTo(2);
        assertThat(noDir.err()).isEqualTo("aneforge publish: " + dir.resolve("bert") + " has no variants.json: pass the --out "
                + "directory of aneforge convert\n");

        Cli neither = run("publish", "--model", "tiny-bert");
        assertThat(neither.code()).isEqualTo(2);
        assertThat(neither.err()).startsWith("aneforge publish: pass either --dir <convert output>");
    }

    /** A copy of the convert output with variants.json changed by {@code edit}. */
    static Path brokenCopy(String name, java.util.function.Consumer<tools.jackson.databind.node.ObjectNode> edit) throws Exception {
        Path copy = dir.resolve("broken-" + name);
        Files.createDirectories(copy);
        try (Stream<Path> files = Files.list(converted)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        var json = (tools.jackson.databind.node.ObjectNode) JsonMapper.shared().readTree(converted.resolve("variants.json").toFile());
        edit.accept(json);
        Files.writeString(copy.resolve("variants.json"), json.toString());
        return copy;
    }

    static tools.jackson.databind.node.ObjectNode variant(tools.jackson.databind.node.ObjectNode m, int i) {
        return (tools.jackson.databind.node.ObjectNode) m.get("variants").get(i);
    }

    @Test
    @Order(5)
    void publishChecksEverythingLocallyBeforeTheRegistryChanges() throws Exception {
        Map<String, Path> broken = new java.util.LinkedHashMap<>();
        broken.put("variants[2] (" + manifest.variants().get(2).id() + ") precision: unknown precision 'int9'",
                brokenCopy("precision", m -> variant(m, 2).put("precision", "int9")));
        broken.put("variants[1] (", brokenCopy("target", m -> variant(m, 1).put("deploymentTarget", "18")));
        broken.put("variants[3] (" + manifest.variants().get(3).id() + ") has no precision",
                brokenCopy("noprecision", m -> variant(m, 3).remove("precision")));
        broken.put("has no model.source", brokenCopy("nomodel", m -> m.remove("model")));
        broken.put("lists no variants", brokenCopy("empty", m -> m.putArray("variants")));
        Path corrupt = brokenCopy("corrupt", m -> { });
        Path archive = corrupt.resolve(manifest.variants().get(4).archive());
        byte[] bytes = Files.readAllBytes(archive);
        bytes[bytes.length / 2] ^= 1;
        Files.write(archive, bytes);
        broken.put(archive + " has sha256 ", corrupt);
        Path badGolden = brokenCopy("golden", m -> { });
        Path goldenOutputs = badGolden.resolve(manifest.golden().outputs());
        byte[] golden = Files.readAllBytes(goldenOutputs);
        golden[golden.length - 1] ^= 1;
        Files.write(goldenOutputs, golden);
        broken.put(goldenOutputs + " has sha256 ", badGolden);
        Path noGolden = brokenCopy("nogoldenfile", m -> { });
        Files.delete(noGolden.resolve(manifest.golden().inputs()));
        broken.put(noGolden.resolve(manifest.golden().inputs()) + " (" + noGolden.resolve("variants.json")
                + " golden.inputs) is missing", noGolden);
        Path notJson = brokenCopy("notjson", m -> { });
        Files.writeString(notJson.resolve("variants.json"), "{\"formatVersion\": 1,\n  \"variants\": [ ,");
        broken.put(notJson.resolve("variants.json") + " line 2 column ", notJson);

        for (Map.Entry<String, Path> b : broken.entrySet()) {
            Cli p = run("publish", "--model", "untouched", "--dir", b.getValue().toString(), "--alias", "production");
            assertThat(p.code()).as(p.toString()).isEqualTo(2);
            assertThat(p.err()).as(p.toString()).startsWith("aneforge publish: ").contains(b.getKey())
                    .doesNotContain("internal error").doesNotContain("Source:").hasLineCount(1);
        }
        String[][] badOptions = {
            {"--dir", converted.toString(), "--alias", "Bad Alias"},
            {"--dir", converted.toString(), "--alias", ""},
            {"--dir", converted.toString(), "--alias", "canary", "--reason", ""},
            {"--source", "hf:org/x", "--chips", "M2", "--seq-len", "1"},
            {"--source", "hf:org/x", "--chips", "M2", "--seq-len", "0"},
            {"--source", "hf:org/x", "--chips", "M2", "--seq-len", "-1"},
            {"--source", "hf:org/x", "--chips", "M2", "--head", "drop"},
            {"--dir", converted.toString(), "--token-types"},
            {"--dir", converted.toString(), "--head", "none"},
        };
        for (String[] o : badOptions) {
            List<String> args = new ArrayList<>(List.of("publish", "--model", "untouched"));
            args.addAll(List.of(o));
            Cli p = run(args.toArray(String[]::new));
            assertThat(p.code()).as(p.toString()).isEqualTo(2);
            assertThat(p.out()).as(p.toString()).isEmpty();
        }
        Cli badName = run("publish", "--model", "Bad/Name", "--dir", converted.toString());
        assertThat(badName.code()).as(badName.toString()).isEqualTo(2);
        assertThat(badName.err()).startsWith("aneforge publish: --model 'Bad/Name' is not a registry model name: ");
        Cli statusBadName = run("status", "--model", "Bad/Name");
        assertThat(statusBadName.code()).as(statusBadName.toString()).isEqualTo(2);

        Cli nothing = run("status", "--model", "untouched");
        assertThat(nothing.code()).as(nothing.toString()).isEqualTo(1);
        assertThat(nothing.err()).contains("HTTP 404 model-not-found");
        Cli v1Only = run("status", "--model", "tiny-bert");
        assertThat(v1Only.out()).contains("1 versions");
    }

    /** An archive with the package content at its root, as a served zip; pulled under a name with its digest. */
    static byte[] rootContentZip(VariantEntry v) throws Exception {
        Path unpacked = dir.resolve("rezip-" + v.id());
        io.aneforge.mlpackage.PackageArchive.unzip(converted.resolve(v.archive()), unpacked,
                io.aneforge.mlpackage.PackageArchive.Limits.defaults());
        Path pkg = unpacked.resolve(v.path());
        var bytes = new java.io.ByteArrayOutputStream();
        try (var zip = new java.util.zip.ZipOutputStream(bytes); Stream<Path> files = Files.walk(pkg)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                zip.putNextEntry(new java.util.zip.ZipEntry(pkg.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, zip);
                zip.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    @Test
    @Order(6)
    void twoRootContentArchivesOfOneVersionDoNotOverwriteEachOther() throws Exception {
        Map<String, String> digests = new java.util.HashMap<>();
        Map<String, Answer> answers = new java.util.HashMap<>();
        for (int i : new int[] {0, 1}) { // two builds: the M2 variants share these packages
            byte[] zip = rootContentZip(manifest.variants().get(i));
            String hex = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(zip));
            digests.put("c" + i, hex);
            answers.put("GET /blob" + i, Answer.bytes(zip));
            answers.put("GET /api/v1/models/m" + i + "/resolve", Answer.json(200, "{\"model\":\"m\",\"version\":1,"
                    + "\"digest\":\"sha256:" + hex + "\",\"size\":" + zip.length + ",\"url\":\"/blob" + i
                    + "\",\"variant\":{\"id\":\"m2-ios18-v" + i + "\"}}"));
        }
        try (StubRegistry server = StubRegistry.start(answers::get)) {
            Map<String, String> stub = server.env();
            Path out = dir.resolve("rootcontent");
            for (int i : new int[] {0, 1}) {
                Cli p = Cli.run(stub, "pull", "--model", "m" + i, "--chip", "M2", "--os", "18.0", "--out", out.toString(),
                        "--out-layout", "flat");
                assertThat(p.code()).as(p.toString()).isZero();
                // by model, named by the variant, which stays when an alias moves (the version and digest do not)
                Cli byModel = Cli.run(stub, "pull", "--model", "m" + i, "--chip", "M2", "--os", "18.0", "--out",
                        dir.resolve("rootcontent-by-model").toString());
                assertThat(byModel.code()).as(byModel.toString()).isZero();
                assertThat(dir.resolve("rootcontent-by-model/m" + i + "/m2-ios18-v" + i + ".mlpackage")).isDirectory();
            }
            assertThat(out.resolve("m-v1-" + digests.get("c0").substring(0, 12) + ".mlpackage")).isDirectory();
            assertThat(out.resolve("m-v1-" + digests.get("c1").substring(0, 12) + ".mlpackage")).isDirectory();
        }
    }
    @Test
    @Order(7)
    void publishingBlobsTheRegistryHoldsSkipsTheirUploadAndARetryReusesTheDraftItLeft() throws Exception {
        // Undo pullRefusesBytesThatDoNotMatchTheDigest's tampering with the stored blob.
        VariantEntry tampered = manifest.variants().get(3);
        try (Stream<Path> files = Files.walk(dir.resolve("data/s3"))) {
            Path stored = files.filter(f -> f.getFileName().toString().equals(tampered.sha256())).findFirst().orElseThrow();
            Files.copy(converted.resolve(tampered.archive()), stored, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        var client = new io.aneforge.cli.registry.RegistryClient(java.net.URI.create(env.get("ANEFORGE_REGISTRY_URL")), ADMIN);
        VariantEntry first = manifest.variants().get(0);
        // The registry reads an upload of a digest it holds to the end (and still checks it): the CLI's JDK client
        // failed with "chunked transfer encoding, state: READING_LENGTH" when it answered first.
        for (int i = 0; i < 3; i++) {
            assertThat(client.putBlob(first.sha256(), converted.resolve(first.archive())).path("digest").asString())
                    .isEqualTo("sha256:" + first.sha256());
        }
        assertThat(client.blobExists(first.sha256())).isTrue();
        assertThat(client.blobExists("0".repeat(64))).isFalse();

        Cli again = run("publish", "--model", "same-blobs", "--dir", converted.toString());
        assertThat(again.code()).as(again.toString()).isZero();
        assertThat(again.out()).contains("[1/6] " + first.id() + "  sha256:" + first.sha256().substring(0, 12) + "…  already stored")
                .doesNotContain("uploaded").contains("created draft version 1 of same-blobs")
                .contains("published version 1 of same-blobs with 6 variants");

        // What a publish that failed after creating its version leaves: a draft with some of the variants, and the
        // note naming it in the directory.
        client.post("/api/v1/models", Map.of("name", "retried", "task", "feature-extraction"));
        client.post("/api/v1/models/retried/versions", Map.of("source", Map.of("type", "upload")));
        var partial = io.aneforge.cli.registry.Registrations.of(manifest.variants().get(2));
        client.post("/api/v1/models/retried/versions/1/variants", partial);
        new PublishNote(client.base().toString(), "retried", 1, PublishNote.PUBLISH).write(converted);
        // Not reusable: a draft holding a variant this directory does not have.
        client.post("/api/v1/models/retried/versions", Map.of("source", Map.of("type", "upload")));
        var foreign = new java.util.LinkedHashMap<>(partial);
        // a later target than the package needs is the one fact the registry lets differ from the package
        assertThat(partial.get("deploymentTarget")).isEqualTo("16.0");
        foreign.put("deploymentTarget", "18.0");
        client.post("/api/v1/models/retried/versions/2/variants", foreign);
        Cli foreignRetry = runNoting(client, "retried", 2, PublishNote.PUBLISH);
        assertThat(foreignRetry.out()).as("the noted draft holds a variant of another package")
                .contains("created draft version 3 of retried").doesNotContain("reusing");
        assertThat(client.get("/api/v1/models/retried/versions/2").path("status").asString()).isEqualTo("draft");

        new PublishNote(client.base().toString(), "retried", 1, PublishNote.PUBLISH).write(converted);
        Cli retry = run("publish", "--model", "retried", "--dir", converted.toString());
        assertThat(retry.code()).as(retry.toString()).isZero();
        assertThat(retry.out()).contains("reusing draft version 1 of retried (left by an earlier attempt with 1 of these variants)")
                .contains("published version 1 of retried with 6 variants").doesNotContain("created draft");
        JsonNode versions = client.get("/api/v1/models/retried/versions");
        assertThat(versions.size()).isEqualTo(3);
        assertThat(client.get("/api/v1/models/retried/versions/1/variants").size()).isEqualTo(6);
        assertThat(client.get("/api/v1/models/retried/versions/1").path("status").asString()).isEqualTo("published");
        assertThat(client.get("/api/v1/models/retried/versions/2").path("status").asString()).isEqualTo("draft");
        assertThat(Files.exists(PublishNote.file(converted))).as("a finished publish leaves no note").isFalse();
    }

    /** Notes draft {@code version} as left by a run of {@code kind}, then publishes the directory to {@code model}. */
    private Cli runNoting(io.aneforge.cli.registry.RegistryClient client, String model, int version, String kind)
            throws Exception {
        new PublishNote(client.base().toString(), model, version, kind).write(converted);
        Cli c = run("publish", "--model", model, "--dir", converted.toString());
        assertThat(c.code()).as(c.toString()).isZero();
        return c;
    }

    /**
     * A draft kept on purpose with --draft is never taken for a failed publish's: the next publish --dir of the same
     * directory makes a new version and leaves that draft alone, even when nothing else tells the two apart (same
     * source, only this directory's variants). A note a failed --draft run left is for --draft runs only.
     */
    @Test
    @Order(8)
    void aDraftKeptOnPurposeIsNeverReusedNorPublished() throws Exception {
        var client = new io.aneforge.cli.registry.RegistryClient(java.net.URI.create(env.get("ANEFORGE_REGISTRY_URL")), ADMIN);
        Cli kept = run("publish", "--model", "kept-draft", "--dir", converted.toString(), "--draft");
        assertThat(kept.code()).as(kept.toString()).isZero();
        assertThat(kept.out()).contains("created draft version 1 of kept-draft").contains("version 1 stays a draft with 6 variants");
        assertThat(Files.exists(PublishNote.file(converted))).as("a draft kept on purpose leaves no note").isFalse();

        Cli publish = run("publish", "--model", "kept-draft", "--dir", converted.toString());
        assertThat(publish.code()).as(publish.toString()).isZero();
        assertThat(publish.out()).contains("created draft version 2 of kept-draft").doesNotContain("reusing")
                .contains("published version 2 of kept-draft with 6 variants");
        assertThat(client.get("/api/v1/models/kept-draft/versions/1").path("status").asString()).isEqualTo("draft");
        assertThat(client.get("/api/v1/models/kept-draft/versions/1/variants").size()).isEqualTo(6);

        // a --draft run that failed after creating version 3: a publish run does not take it, a --draft run does
        client.post("/api/v1/models/kept-draft/versions", Map.of("source", Map.of("type", "upload")));
        Cli other = runNoting(client, "kept-draft", 3, PublishNote.DRAFT);
        assertThat(other.out()).contains("created draft version 4 of kept-draft").doesNotContain("reusing");
        assertThat(client.get("/api/v1/models/kept-draft/versions/3").path("status").asString()).isEqualTo("draft");
        new PublishNote(client.base().toString(), "kept-draft", 3, PublishNote.DRAFT).write(converted);
        Cli sameKind = run("publish", "--model", "kept-draft", "--dir", converted.toString(), "--draft");
        assertThat(sameKind.code()).as(sameKind.toString()).isZero();
        assertThat(sameKind.out()).contains("reusing draft version 3 of kept-draft").contains("version 3 stays a draft");
        assertThat(client.get("/api/v1/models/kept-draft/versions").size()).as("no draft piled up").isEqualTo(4);
    }

    /**
     * publish --dir uploads the golden data convert wrote and sets it on the draft, so the version's jobs are ready:
     * an agent gets an accuracy job whose golden blobs are these files, and they measure a variant as the agent does.
     */
    @Test
    @Order(8)
    void publishedDirectoriesBringTheirGoldenDataSoAccuracyJobsRun() throws Exception {
        VariantsManifest.Golden g = manifest.golden();
        assertThat(g).isNotNull();
        assertThat(g.samples()).isEqualTo(io.aneforge.convert.Samples.fixed().size());
        for (JsonNode job : api("GET", "/api/v1/models/tiny-bert/versions/1/jobs", null)) {
            assertThat(job.path("state").asString()).isEqualTo("pending");
            assertThat(job.path("waitingFor").asString()).as(job.toString()).doesNotContain("golden");
        }

        Map<String, Object> agent = new java.util.LinkedHashMap<>();
        agent.put("hostName", "cli-accuracy-agent");
        agent.put("osName", "Linux");
        agent.put("osVersion", "6.1");
        agent.put("osBuild", "#1");
        agent.put("arch", "x86_64");
        agent.put("cpuBrand", "Intel Xeon");
        agent.put("memoryBytes", 8L << 30);
        agent.put("runtimes", List.of("reference-cpu"));
        agent.put("goldenFormat", io.aneforge.eval.golden.GoldenOutputsCodec.VERSION); // convert writes the newest
        String id = api("POST", "/api/v1/agents", agent).path("id").asString();
        JsonNode lease = api("POST", "/api/v1/agents/" + id + "/lease", null);
        assertThat(lease.path("kind").asString()).isEqualTo("accuracy");
        assertThat(lease.path("goldenInputs").path("digest").asString()).isEqualTo("sha256:" + g.inputsSha256());
        assertThat(lease.path("goldenOutputs").path("digest").asString()).isEqualTo("sha256:" + g.outputsSha256());

        // What the agent then computes (GoldenComparison): the variant on every golden input, real tokens compared.
        String digest = lease.path("artifact").path("digest").asString();
        VariantEntry leased = manifest.variants().stream().filter(v -> digest.equals("sha256:" + v.sha256())).findFirst()
                .orElseThrow();
        io.aneforge.eval.GoldenOutputs inputs;
        io.aneforge.eval.GoldenOutputs outputs;
        try (var in = Files.newInputStream(converted.resolve(g.inputs()));
             var out = Files.newInputStream(converted.resolve(g.outputs()))) {
            inputs = io.aneforge.eval.golden.GoldenOutputsCodec.read(in);
            outputs = io.aneforge.eval.golden.GoldenOutputsCodec.read(out);
        }
        assertThat(outputs.samples().get(0).outputs().get("last_hidden_state").shape()).containsExactly(1, 8, 32);
        List<Map<String, io.aneforge.tensor.FloatTensor>> sampleInputs = inputs.samples().stream()
                .map(io.aneforge.eval.GoldenOutputs.Sample::outputs).toList();
        List<Map<String, io.aneforge.tensor.FloatTensor>> produced;
        try (var model = new io.aneforge.runtime.reference.ReferenceRuntime().load(converted.resolve(leased.path()),
                io.aneforge.runtime.RuntimeOptions.defaults())) {
            produced = sampleInputs.stream().map(model::predict).toList();
        }
        io.aneforge.eval.FidelityReport f = io.aneforge.convert.VariantFidelity.realTokens(outputs, produced, sampleInputs)
                .get("last_hidden_state");
        assertThat(f.cosineMin()).as(leased.id()).isGreaterThan(0.999);
        assertThat(f.positions()).isLessThan(32 * 8); // padding is not compared
    }

    /**
     * A directory from an older convert (no golden data) is refused before the registry changes, naming the fix and
     * the opt-out; with --without-golden-data --reason it is published, the choice kept and its jobs cancelled (they
     * could never run). Before review-d it was published with a note and its jobs waited forever.
     */
    @Test
    @Order(9)
    void aDirectoryWithoutGoldenDataIsRefusedUnlessTheOptOutIsExplicit() throws Exception {
        Path old = brokenCopy("older-convert", m -> {
            m.remove("golden");
            // the M2 variants' blobs are the ones pullRefusesBytesThatDoNotMatchTheDigest corrupted in the store
            for (int i = 5; i >= 3; i--) {
                ((tools.jackson.databind.node.ArrayNode) m.get("variants")).remove(i);
            }
        });
        Cli refused = run("publish", "--model", "no-golden", "--dir", old.toString());
        assertThat(refused.code()).as(refused.toString()).isNotZero();
        assertThat(refused.err()).startsWith("aneforge publish: " + old + " has no golden data (golden-inputs.bin and "
                        + "golden-outputs.bin: convert --samples 0, or a convert older than golden-*.bin)")
                .contains("Convert again (--samples 1 or more)")
                .contains("--without-golden-data --reason TEXT (accuracy not checked)");
        assertThat(refused.out()).isEmpty();
        Cli noReason = run("publish", "--model", "no-golden", "--dir", old.toString(), "--without-golden-data");
        assertThat(noReason.code()).as(noReason.toString()).isNotZero();
        assertThat(noReason.err()).contains("--without-golden-data needs --reason TEXT");
        Cli hasGolden = run("publish", "--model", "no-golden", "--dir", converted.toString(), "--without-golden-data",
                "--reason", "habit");
        assertThat(hasGolden.err()).contains("has golden data, so its accuracy is checked: drop --without-golden-data");
        Cli withSource = run("publish", "--model", "no-golden", "--source", "hf:org/name", "--chips", "A17_PRO",
                "--without-golden-data", "--reason", "x");
        assertThat(withSource.err()).contains("a registry-side conversion stores its own golden data");
        assertThat(new io.aneforge.cli.registry.RegistryClient(java.net.URI.create(env.get("ANEFORGE_REGISTRY_URL")), ADMIN)
                .find("/api/v1/models/no-golden")).as("nothing was created").isEmpty();

        Cli p = run("publish", "--model", "no-golden", "--dir", old.toString(), "--without-golden-data", "--reason",
                "older convert, accepted unchecked");
        assertThat(p.code()).as(p.toString()).isZero();
        assertThat(p.out()).contains("no golden data in " + old + " (convert --samples 0, or a convert older than "
                        + "golden-*.bin): publishing version 1 without it as asked (--without-golden-data): its accuracy is "
                        + "not checked and its jobs are cancelled\n")
                .contains("published version 1 of no-golden with 3 variants without golden data: accuracy not checked");
        Cli status = run("status", "--model", "no-golden", "--version", "1");
        assertThat(status.out()).contains("published without golden data by ")
                .contains(": older convert, accepted unchecked (accuracy not checked, nothing benchmarked)\n");
        JsonNode version = api("GET", "/api/v1/models/no-golden/versions/1", null);
        assertThat(version.path("publishedWithoutGoldenData").path("reason").asString())
                .isEqualTo("older convert, accepted unchecked");
        JsonNode jobs = api("GET", "/api/v1/models/no-golden/versions/1/jobs", null);
        assertThat(jobs.size()).isPositive();
        for (JsonNode job : jobs) {
            assertThat(job.path("state").asString()).isEqualTo("cancelled");
            assertThat(job.path("failureReason").asString()).startsWith("published without golden data: ");
        }
    }

    /**
     * A directory as converts before shared builds wrote it, one package per variant named by the variant id and
     * naming it in its metadata ({@code aneforge.variant}, chip included), still publishes: each chip's own package
     * uploaded and registered, the registry checking each package's chip against the declared one.
     */
    @Test
    @Order(10)
    void aDirectoryWithOnePackagePerVariantStillPublishes() throws Exception {
        Path old = brokenCopy("one-package-per-variant", m -> { });
        var json = (tools.jackson.databind.node.ObjectNode) JsonMapper.shared().readTree(old.resolve("variants.json").toFile());
        for (int i = 0; i < manifest.variants().size(); i++) {
            VariantEntry e = manifest.variants().get(i);
            io.aneforge.mil.Program shared = MlPackage.read(converted.resolve(e.path()));
            Map<String, String> metadata = new java.util.LinkedHashMap<>(shared.metadata());
            metadata.remove("aneforge.build");
            metadata.put("aneforge.variant", e.id());
            io.aneforge.mil.Program own = new io.aneforge.mil.Program(shared.target(), shared.inputs(), shared.operations(),
                    shared.outputs(), metadata);
            Path zip = old.resolve(e.id() + ".mlpackage.zip");
            try (var archive = Files.newOutputStream(zip)) {
                MlPackage.write(own, old.resolve(e.id() + ".mlpackage"), archive);
            }
            String hex = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(Files.readAllBytes(zip)));
            variant(json, i).put("path", e.id() + ".mlpackage").put("archive", e.id() + ".mlpackage.zip")
                    .put("sha256", hex).put("size", Files.size(zip));
        }
        Files.writeString(old.resolve("variants.json"), json.toString());
        VariantsManifest m = VariantsManifest.read(old.resolve("variants.json"));
        assertThat(m.variants().stream().map(VariantEntry::sha256).distinct()).hasSize(6);

        Cli p = run("publish", "--model", "one-package-per-variant", "--dir", old.toString());
        assertThat(p.code()).as(p.toString()).isZero();
        assertThat(p.out()).contains("registered 6 variants (6 distinct packages)")
                .contains("published version 1 of one-package-per-variant with 6 variants").doesNotContain("same package");
        assertThat(p.out().split("…  uploaded", -1)).hasSize(7);
        JsonNode variants = api("GET", "/api/v1/models/one-package-per-variant/versions/1/variants", null);
        assertThat(variants.size()).isEqualTo(6);
        for (int i = 0; i < 6; i++) {
            assertThat(variants.get(i).path("chip").asString()).isEqualTo(m.variants().get(i).chip());
            assertThat(variants.get(i).path("digest").asString()).isEqualTo("sha256:" + m.variants().get(i).sha256());
        }
    }

    /**
     * V35: a directory converted with w8a8 and w8a8-affine publishes both (quantization affine tells them apart); status
     * and resolve print w8a8-affine as convert spells it, and resolve prefers it (closer to the original than w8a8);
     * {@code --precision w8a8-symmetric} asks for the symmetric one alone.
     */
    @Test
    @Order(11)
    void w8a8AndW8a8AffinePublishAsTwoVariants() throws Exception {
        Path recipe = dir.resolve("w8a8-modes.yaml");
        Files.writeString(recipe, "variants:\n  - {chips: w8a8, layout: ane, precision: w8a8}\n"
                + "  - {chips: w8a8, layout: ane, precision: w8a8-affine}\n");
        Path out = dir.resolve("converted-w8a8");
        Cli c = Cli.run("convert", "--source", TinyModels.bert(dir.resolve("bert-w8a8"), 3).toString(), "--out", out.toString(),
                "--chips", "A17_PRO", "--recipe", recipe.toString(), "--seq-len", "8", "--samples", "1", "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        VariantsManifest m = VariantsManifest.read(out.resolve("variants.json"));
        assertThat(m.variants().stream().map(VariantEntry::precision)).containsExactly("w8a8", "w8a8-affine");

        Cli p = run("publish", "--model", "tiny-w8a8", "--dir", out.toString(), "--alias", "production", "--reason", "test");
        assertThat(p.code()).as(p.toString()).isZero();
        assertThat(p.out()).contains("published version 1 of tiny-w8a8 with 2 variants");
        JsonNode variants = api("GET", "/api/v1/models/tiny-w8a8/versions/1/variants", null);
        assertThat(variants.valueStream().map(v -> v.path("precision").asString() + "/" + v.path("blockSize").isNull() + "/"
                + (v.path("quantization").isNull() ? "-" : v.path("quantization").asString()) + " " + v.path("digest").asString()))
                .containsExactly("w8a8/true/- sha256:" + m.variants().get(0).sha256(),
                        "w8a8/true/affine sha256:" + m.variants().get(1).sha256());

        Cli s = run("status", "--model", "tiny-w8a8", "--version", "1");
        assertThat(s.code()).as(s.toString()).isZero();
        assertThat(s.out()).contains("  ane  w8a8  seq 8  available").contains("  ane  w8a8-affine  seq 8  available");
        Cli r = run("resolve", "--model", "tiny-w8a8", "--chip", "A17_PRO", "--os", "17.0");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).startsWith("tiny-w8a8 v1 (alias production): A17_PRO ios 17.0 ane w8a8-affine seq 8;")
                .contains("sha256:" + m.variants().get(1).sha256());
        Cli none = run("resolve", "--model", "tiny-w8a8", "--chip", "A17_PRO", "--os", "17.0", "--precision", "int8");
        assertThat(none.code()).isEqualTo(1);
        // The refusal names each mode as a precision that can be asked for: symmetric w8a8 alone is w8a8-symmetric.
        assertThat(none.err()).contains("HTTP 404 no-variant-matches-filter")
                .contains("precisions [w8a8-affine, w8a8-symmetric]");
        Cli symmetric = run("resolve", "--model", "tiny-w8a8", "--chip", "A17_PRO", "--os", "17.0", "--precision",
                "w8a8-symmetric");
        assertThat(symmetric.code()).as(symmetric.toString()).isZero();
        assertThat(symmetric.out()).startsWith("tiny-w8a8 v1 (alias production): A17_PRO ios 17.0 ane w8a8 seq 8;")
                .contains("sha256:" + m.variants().get(0).sha256());
    }

    /** The registry's JSON answer to an admin request (fails the test on anything but 2xx). */
    /** A registry-side conversion with convert's --head none and --token-types: the registry queues it with both. */
    @Test
    void publishSourceSendsHeadAndTokenTypes() throws Exception {
        Cli options = run("publish", "--model", "with-options", "--source", "hf:org/x", "--chips", "M2", "--head", "none",
                "--token-types");
        assertThat(options.code()).as(options.toString()).isZero();
        assertThat(options.out()).contains("version 1 of with-options created from hf:org/x; conversion queued for M2");
        JsonNode conversion = api("GET", "/api/v1/models/with-options/versions/1/conversion", null);
        assertThat(conversion.path("head").asString()).isEqualTo("none");
        assertThat(conversion.path("tokenTypes").asBoolean()).isTrue();
        Cli defaults = run("publish", "--model", "with-options", "--source", "hf:org/x", "--chips", "M2");
        assertThat(defaults.code()).as(defaults.toString()).isZero();
        JsonNode plain = api("GET", "/api/v1/models/with-options/versions/2/conversion", null);
        assertThat(plain.path("head").asString()).isEqualTo("convert");
        assertThat(plain.path("tokenTypes").asBoolean()).isFalse();
    }

    /**
     * A registry before V30 ignores head and tokenTypes (unknown fields) and would build other packages: publish reads
     * the conversion back, cancels it and fails naming the registry as too old. The older registry is a real HTTP
     * server answering as that release did (no head or tokenTypes in the conversion).
     */
    @Test
    void publishSourceFailsAndCancelsWhenTheRegistryDroppedHeadOrTokenTypes() throws Exception {
        try (StubRegistry server = StubRegistry.start(call -> switch (call) {
            case "GET /api/v1/models/older" -> Answer.json(200, "{\"name\":\"older\",\"task\":\"feature-extraction\"}");
            case "POST /api/v1/models/older/versions" ->
                    Answer.json(201, "{\"model\":\"older\",\"version\":3,\"status\":\"draft\"}");
            case "GET /api/v1/models/older/versions/3/conversion" ->
                    Answer.json(200, "{\"id\":41,\"state\":\"queued\",\"chips\":[\"M2\"]}");
            case "POST /api/v1/conversions/41/cancel" -> Answer.json(200, "{\"id\":41,\"state\":\"cancelled\"}");
            default -> null;
        })) {
            Map<String, String> older = server.env();
            List<String> calls = server.calls();
            Cli p = Cli.run(older, "publish", "--model", "older", "--source", "hf:org/x", "--chips", "M2", "--head", "none");
            assertThat(p.code()).as(p.toString()).isEqualTo(1);
            assertThat(p.err()).contains("the registry did not keep the conversion options: sent head 'none', tokenTypes"
                    + " false; version 3 of older stored head (none), tokenTypes (none)")
                    .contains("older than head/tokenTypes (V30)").contains("the conversion was cancelled");
            assertThat(p.out()).doesNotContain("conversion queued");
            assertThat(calls).contains("POST /api/v1/conversions/41/cancel");

            // without --head/--token-types nothing is read back: defaults are what any registry builds
            calls.clear();
            Cli plain = Cli.run(older, "publish", "--model", "older", "--source", "hf:org/x", "--chips", "M2");
            assertThat(plain.code()).as(plain.toString()).isZero();
            assertThat(calls).doesNotContain("GET /api/v1/models/older/versions/3/conversion");
        }
    }

    /**
     * A registry from before golden format 3 refuses a format 3 golden-outputs.bin at PUT .../golden with 422
     * not-golden-data telling "this component" to upgrade and to upload what convert wrote, which is what publish
     * did: publish says instead that the registry predates the format, the two ways out, and that the draft stays.
     * The older registry is a real HTTP server answering as that release does (its detail word for word).
     */
    @Test
    void publishAgainstARegistryBeforeGoldenFormatThreeNamesTheRegistryAsTooOld() throws Exception {
        Path copy = brokenCopy("before-format-3", m -> { }); // publish leaves its note in the directory
        String outputs = manifest.golden().outputsSha256();
        String detail = "golden outputs blob sha256:" + outputs + " cannot be used: golden outputs: unsupported version 3"
                + " (this reader supports 1 to 2): the blob was written by a newer ANE Forge; upgrade this component to"
                + " the registry's version. Upload the golden-inputs.bin / golden-outputs.bin that `./aneforge convert`"
                + " or the converter worker wrote (GoldenOutputsCodec), then set them again";
        String problem = JsonMapper.shared().writeValueAsString(Map.of("type", "https://aneforge.io/problems/not-golden-data",
                "title", "Not golden data", "status", 422, "detail", detail));
        try (StubRegistry server = StubRegistry.start(call -> {
            if (call.startsWith("HEAD /api/v1/blobs/")) {
                return Answer.json(200, "{}"); // every blob stored already: nothing to upload
            }
            return switch (call) {
                case "GET /api/v1/models/before-format-3" ->
                        Answer.json(200, "{\"name\":\"before-format-3\",\"task\":\"feature-extraction\"}");
                case "POST /api/v1/models/before-format-3/versions" ->
                        Answer.json(201, "{\"model\":\"before-format-3\",\"version\":7,\"status\":\"draft\"}");
                case "PUT /api/v1/models/before-format-3/versions/7/golden" -> Answer.problem(422, problem);
                default -> null;
            };
        })) {
            Map<String, String> older = server.env();
            Cli p = Cli.run(older, "publish", "--model", "before-format-3", "--dir", copy.toString());
            assertThat(p.code()).as(p.toString()).isEqualTo(1);
            assertThat(p.err()).contains("the registry predates golden format 3 (it refused this directory's golden data"
                    + " as unsupported version 3): upgrade it, or re-run convert with ANEFORGE_GOLDEN_FORMAT=2")
                    .contains("draft version 7 stays")
                    .doesNotContain("upgrade this component");
            assertThat(server.calls()).contains("PUT /api/v1/models/before-format-3/versions/7/golden")
                    .noneMatch(c -> c.endsWith("/publish") || c.endsWith("/variants"));
        }
    }

    static JsonNode api(String method, String path, Object body) throws Exception {
        var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(env.get("ANEFORGE_REGISTRY_URL") + path))
                .header("Authorization", "Bearer " + ADMIN).header("Content-Type", "application/json")
                .method(method, body == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
                        : java.net.http.HttpRequest.BodyPublishers.ofString(JsonMapper.shared().writeValueAsString(body)))
                .build();
        var r = java.net.http.HttpClient.newHttpClient().send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(method + " " + path + ": " + r.body()).isBetween(200, 299);
        return JsonMapper.shared().readTree(r.body());
    }
}
