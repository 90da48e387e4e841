package io.aneforge.registry.matrix;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Target;
import io.aneforge.mil.Var;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.mlpackage.PackageArchive;
import io.aneforge.registry.job.JobTestSupport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Fills a version's matrix through the real APIs: variants registered with real (tiny) MIL
 * packages, golden outputs set, agents registering, leasing and reporting results.
 */
abstract class MatrixTestSupport extends JobTestSupport {

    /** What an agent reports for one leased job of the model under test. */
    sealed interface Outcome permits Measured, Failed, Skip {}

    /**
     * Benchmark: p50 (p90 = 1.2 × p50); accuracy: the cosine, compared at golden format 3's held positions only
     * ({@code comparedPositions} reported) when {@code heldPositionsOnly}.
     */
    record Measured(double value, boolean heldPositionsOnly) implements Outcome {
        Measured(double value) {
            this(value, false);
        }
    }

    record Failed(String reason) implements Outcome {}

    /** Keep the lease and report nothing: the job stays running (pending in the matrix). */
    record Skip() implements Outcome {}

    interface Plan {
        /** @param chip variant chip, {@code precision} as registered, {@code kind} benchmark|accuracy */
        Outcome decide(String chip, String precision, String kind, String computeUnits);
    }

    /** A real, tiny .mlpackage (one linear layer, hidden x hidden, fp16 weights), unique by {@code salt}. */
    static byte[] realPackage(int hidden, int seq, float salt) {
        try {
            MilBuilder b = new MilBuilder(Target.IOS18);
            Var x = b.input("x", DType.FP16, 1, seq, hidden);
            float[] w = new float[hidden * hidden];
            for (int i = 0; i < w.length; i++) w[i] = ((i * 31 % 17) - 8) / 64f + salt;
            Var weight = b.constant("w", Constant.fp16(w, hidden, hidden));
            Var y = b.named("y").linear(x, weight, null);
            Path dir = Files.createTempDirectory("matrix-pkg").resolve("Model.mlpackage");
            MlPackage.write(b.build(y), dir);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            PackageArchive.zip(dir, out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * {@code pkg} without its weight.bin: the registry takes it (it reads Manifest.json and model.mlmodel only), and
     * the package reader refuses it (the model's weights point into a file that is not there).
     */
    static byte[] withoutWeights(byte[] pkg) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (var in = new java.util.zip.ZipInputStream(new java.io.ByteArrayInputStream(pkg));
             var out = new java.util.zip.ZipOutputStream(bytes)) {
            for (java.util.zip.ZipEntry e; (e = in.getNextEntry()) != null; ) {
                if (e.getName().endsWith("/weight.bin")) continue;
                out.putNextEntry(new java.util.zip.ZipEntry(e.getName()));
                in.transferTo(out);
                out.closeEntry();
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    protected Response variant(String model, int version, String chip, String layout, String precision, Integer block,
                               byte[] pkg, List<String> computeUnits) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("chip", chip);
        body.put("deploymentTarget", "18.0");
        body.put("layout", layout);
        body.put("precision", precision);
        if (block != null) body.put("blockSize", block);
        body.put("seqLen", 128);
        body.put("digest", upload(pkg));
        body.put("computeUnits", computeUnits);
        Response r = send("POST", "/api/v1/models/" + model + "/versions/" + version + "/variants", publisher(), body);
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        return r;
    }

    /**
     * One agent per chip leases every job it can and reports what {@code plan} says for jobs of
     * {@code model}; jobs of other models left over by earlier tests are reported failed.
     */
    protected void runAgents(String model, Map<String, String> hostByChip, Plan plan) {
        for (Map.Entry<String, String> e : hostByChip.entrySet()) {
            String chip = e.getKey();
            String host = e.getValue();
            String agent = registerAgent(host, chip, List.of("coreml", "reference-cpu"));
            Set<Long> skipped = new HashSet<>();
            for (Response r = lease(agent); r.status() == 200; r = lease(agent)) {
                JsonNode l = r.json();
                if (!l.path("model").asString().equals(model)) {
                    assertThat(report(agent, l, Map.of("leaseId", l.path("leaseId").asString(), "outcome", "failed",
                            "failure", "consumed by " + host)).status()).isEqualTo(201);
                    continue;
                }
                Outcome o = plan.decide(l.path("variant").path("chip").asString(), l.path("variant").path("precision").asString(),
                        l.path("kind").asString(), l.path("computeUnits").asString());
                if (o instanceof Skip) {
                    // a skipped job whose 2 s test lease expired comes back: everything else was seen already
                    if (!skipped.add(l.path("jobId").asLong())) break;
                    continue;
                }
                Map<String, Object> body;
                if (o instanceof Failed f) {
                    body = Map.of("leaseId", l.path("leaseId").asString(), "outcome", "failed", "failure", f.reason());
                } else {
                    double value = ((Measured) o).value();
                    body = validReport(l, host);
                    @SuppressWarnings("unchecked")
                    Map<String, Object> prov = (Map<String, Object>) body.get("provenance");
                    prov.put("chip", chip);
                    if (l.path("kind").asString().equals("benchmark")) {
                        @SuppressWarnings("unchecked")
                        Map<String, Object> lat = (Map<String, Object>) ((Map<String, Object>) body.get("benchmark")).get("latency");
                        lat.put("minMs", value * 0.9);
                        lat.put("p50Ms", value);
                        lat.put("p90Ms", value * 1.2);
                        lat.put("p99Ms", value * 1.4);
                        lat.put("maxMs", value * 1.5);
                        lat.put("meanMs", value * 1.05);
                    } else {
                        Map<String, Object> fid = new LinkedHashMap<>();
                        fid.put("positions", 4);
                        fid.put("hiddenSize", 384);
                        fid.put("cosineMean", Math.min(1.0, value + 0.00001));
                        fid.put("cosineMin", value);
                        fid.put("cosinePooled", Math.min(1.0, value + 0.00001));
                        fid.put("maxAbsError", 0.01);
                        fid.put("meanAbsError", 0.001);
                        fid.put("psnrDb", 60.0);
                        if (((Measured) o).heldPositionsOnly()) {
                            fid.put("comparedPositions", Map.of("sample-00", List.of(1, 3), "sample-01", List.of(2, 5)));
                        }
                        body.put("fidelity", Map.of("last_hidden_state", fid));
                    }
                }
                Response rep = report(agent, l, body);
                assertThat(rep.status()).as(rep.text()).isEqualTo(201);
            }
        }
    }

    protected Response putGates(String model, String json, String token) {
        return send("PUT", "/api/v1/models/" + model + "/gates", token, json);
    }

    protected JsonNode matrix(String model, int version, String query) {
        Response r = get("/api/v1/models/" + model + "/versions/" + version + "/matrix" + query, reader());
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.json();
    }

    static JsonNode row(JsonNode matrix, String cell) {
        for (JsonNode r : matrix.path("rows")) if (r.path("cell").asString().equals(cell)) return r;
        throw new AssertionError("no row " + cell + " in " + matrix.path("rows"));
    }
}
