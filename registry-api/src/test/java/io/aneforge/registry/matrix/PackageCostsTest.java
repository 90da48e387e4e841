package io.aneforge.registry.matrix;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.MigrationUpgrade;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.search.Search;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/** Package costs (the roofline estimate's input): what is stored, what is retried, how often blobs are read. */
class PackageCostsTest extends MatrixTestSupport {

    @Autowired
    JdbcClient jdbc;

    @Autowired
    MeterRegistry meters;

    private double counts() {
        return Search.in(meters).name("aneforge.matrix.package.counts").counters().stream().mapToDouble(c -> c.count()).sum();
    }

    private Long storedRows(String digest) {
        return jdbc.sql("SELECT count(*) FROM blob_cost WHERE digest = ?").param(digest.substring("sha256:".length()))
                .query(Long.class).single();
    }

    private Path storedObject(String digest) {
        return DATA_DIR.resolve("s3").resolve("aneforge").resolve("blobs").resolve("sha256")
                .resolve(digest.substring("sha256:".length()));
    }

    @Test
    void aStorageFailureIsShownButNotStoredAndTheNextRequestAfterTheRetryDelayCounts() throws Exception {
        String m = "cost-transient";
        createModel(m);
        int v = createVersion(m);
        String digest = variant(m, v, "A17_PRO", "ane", "fp16", null, realPackage(32, 128, 2.5f), List.of("cpuAndNeuralEngine"))
                .json().path("digest").asString();
        // left a draft: the matrix needs no publish, and its cell must stay estimated (the ready jobs of a
        // published version with golden data would be leased by other tests' A17_PRO agents)
        Path object = storedObject(digest);
        Path away = object.resolveSibling(object.getFileName() + ".away");
        assertThat(object).exists();
        Files.move(object, away); // the store briefly cannot serve the blob
        JsonNode during;
        try {
            during = row(matrix(m, v, ""), "A17_PRO fp16");
        } finally {
            Files.move(away, object);
        }
        assertThat(during.path("estimate").isNull()).isTrue();
        assertThat(during.path("estimateUnavailable").asString()).startsWith("the package could not be read from storage")
                .contains("not stored");
        assertThat(storedRows(digest)).as("a storage failure says nothing about the package").isZero();

        Thread.sleep(400); // aneforge.matrix.estimate-retry-after is 300 ms in tests
        JsonNode after = row(matrix(m, v, ""), "A17_PRO fp16");
        assertThat(after.path("estimate").path("flops").asLong()).isEqualTo(2L * 128 * 32 * 32);
        assertThat(after.path("cells").path("cpuAndNeuralEngine").path("source").asString()).isEqualTo("estimated");
        assertThat(storedRows(digest)).isEqualTo(1);
    }

    @Test
    void aPackageThatIsNoMilProgramIsStoredAndNotReadAgain() {
        String m = "cost-unreadable";
        createModel(m);
        int v = createVersion(m);
        String digest = variant(m, v, "A17_PRO", "ane", "fp16", null, withoutWeights(realPackage(32, 128, 5.5f)), List.of("cpuAndNeuralEngine"))
                .json().path("digest").asString();
        publishWithoutGoldenData(m, v);
        double before = counts();
        String reason = row(matrix(m, v, ""), "A17_PRO fp16").path("estimateUnavailable").asString();
        assertThat(reason).startsWith("the package could not be read as a MIL program");
        assertThat(storedRows(digest)).isEqualTo(1);
        assertThat(row(matrix(m, v, ""), "A17_PRO fp16").path("estimateUnavailable").asString()).isEqualTo(reason);
        assertThat(counts() - before).as("read once").isEqualTo(1.0);
    }

    /**
     * The reader's refusal of a package file that is a directory is the package's content, so it is stored and
     * not read again (it was taken for a disk fault: never stored, re-read every retry delay). Since the registry
     * reads model.mlmodel at registration, a model.mlmodel that is a directory is refused there (below); a
     * weight.bin that is one, which the registry does not read, still reaches the matrix.
     */
    @Test
    void aPackageTheReaderRefusesForItsBoundsIsStoredAndNotReadAgain() throws Exception {
        String m = "cost-bounds";
        createModel(m);
        int v = createVersion(m);
        String digest = variant(m, v, "A17_PRO", "ane", "fp16", null, withWeightsAsDirectory(realPackage(32, 128, 4.5f)),
                List.of("cpuAndNeuralEngine")).json().path("digest").asString();
        publishWithoutGoldenData(m, v);
        double before = counts();
        String reason = row(matrix(m, v, ""), "A17_PRO fp16").path("estimateUnavailable").asString();
        assertThat(reason).startsWith("the package could not be read as a MIL program")
                .contains("weight.bin is not a regular file").doesNotContain("not stored");
        assertThat(storedRows(digest)).isEqualTo(1);
        Thread.sleep(400); // past aneforge.matrix.estimate-retry-after (300 ms in tests)
        assertThat(row(matrix(m, v, ""), "A17_PRO fp16").path("estimateUnavailable").asString()).isEqualTo(reason);
        assertThat(counts() - before).as("read once").isEqualTo(1.0);
    }

    @Test
    void aModelThatIsADirectoryIsRefusedAtRegistration() throws Exception {
        createModel("cost-model-dir");
        int v = createVersion("cost-model-dir");
        Response r = send("POST", "/api/v1/models/cost-model-dir/versions/" + v + "/variants", publisher(),
                Map.of("chip", "A17_PRO", "deploymentTarget", "18.0", "layout", "ane", "precision", "fp16", "seqLen", 128,
                        "digest", upload(withFileAsDirectory(realPackage(32, 128, 6.5f), "/model.mlmodel"))));
        assertThat(r.status()).as(r.text()).isEqualTo(422);
        assertThat(r.json().path("detail").asString()).endsWith("'Model.mlpackage/Data/com.apple.CoreML/model.mlmodel'"
                + " is missing or not a file: a package holds its model there");
    }

    private static byte[] withWeightsAsDirectory(byte[] pkg) throws IOException {
        return withFileAsDirectory(pkg, "/weight.bin");
    }

    /** {@code pkg} with the file whose name ends with {@code suffix} replaced by a directory of that name. */
    private static byte[] withFileAsDirectory(byte[] pkg, String suffix) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(pkg));
             ZipOutputStream out = new ZipOutputStream(bytes)) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                if (e.getName().endsWith(suffix)) {
                    out.putNextEntry(new ZipEntry(e.getName() + "/"));
                } else {
                    out.putNextEntry(new ZipEntry(e.getName()));
                    in.transferTo(out);
                }
                out.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    @Test
    void concurrentFirstRequestsCountABlobOnce() throws Exception {
        String m = "cost-single-flight";
        createModel(m);
        int v = createVersion(m);
        // big enough that reading, unzipping and decoding it takes a while
        variant(m, v, "A17_PRO", "ane", "fp16", null, realPackage(384, 128, 3.5f), List.of("cpuAndNeuralEngine"));
        publishWithoutGoldenData(m, v);
        double before = counts();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<CompletableFuture<JsonNode>> all = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                all.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    return matrix(m, v, "");
                }, pool));
            }
            start.countDown();
            for (CompletableFuture<JsonNode> f : all) {
                assertThat(row(f.get(), "A17_PRO fp16").path("estimate").path("flops").asLong()).isEqualTo(2L * 128 * 384 * 384);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(counts() - before).as("one count for six concurrent first requests").isEqualTo(1.0);
    }

    @Test
    void aMatrixReadsTheStoredCostsOfAllItsPackagesInOneQuery() {
        String m = "cost-batch";
        createModel(m);
        int v = createVersion(m);
        for (int seq = 2; seq <= 17; seq++) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("chip", "M2");
            body.put("deploymentTarget", "18.0");
            body.put("layout", "ane");
            body.put("precision", "fp16");
            body.put("seqLen", seq);
            body.put("digest", upload(withoutWeights(realPackage(32, seq, 0.01f * seq))));
            body.put("computeUnits", List.of("cpuAndNeuralEngine"));
            Response r = send("POST", "/api/v1/models/" + m + "/versions/" + v + "/variants", publisher(), body);
            assertThat(r.status()).as(r.text()).isEqualTo(201);
        }
        publishWithoutGoldenData(m, v);
        matrix(m, v, ""); // counts and stores all 16
        // Outside a transaction every statement borrows a pool connection: the pool's usage count counts statements.
        var usage = meters.find("hikaricp.connections.usage").timer();
        assertThat(usage).as("Hikari's metrics").isNotNull();
        long before = usage.count();
        JsonNode mx = matrix(m, v, "");
        long statements = usage.count() - before;
        assertThat(mx.path("rows")).hasSize(16);
        // about six statements (version, variants, jobs, gates, costs); one per row would be 16 more
        assertThat(statements).as("connections borrowed by one matrix request of 16 rows").isLessThan(12);
    }

    /** V10 on a database with V9 rows: stored errors (transient or not) go, counted costs stay. */
    @Test
    void v10DropsStoredErrorsAndKeepsCounts() throws Exception {
        String counted = "a".repeat(64);
        String failed = "b".repeat(64);
        MigrationUpgrade.from("9", st -> {
            for (String d : List.of(counted, failed)) {
                st.execute("INSERT INTO blob (digest, size, media_type, storage_key, created_by) VALUES ('" + d
                        + "', 1, 'application/zip', 'blobs/sha256/" + d + "', 'test')");
            }
            st.execute("INSERT INTO blob_cost (digest, flops, weight_bytes, activation_bytes) VALUES ('" + counted + "', 1, 2, 3)");
            st.execute("INSERT INTO blob_cost (digest, error) VALUES ('" + failed
                    + "', 'the package could not be read as a MIL program: get blobs/sha256/" + failed + ": connection refused')");
        }, st -> assertThat(MigrationUpgrade.rows(st, "SELECT left(digest, 1), flops FROM blob_cost ORDER BY digest"))
                .containsExactly("a/1"));
    }
}
