package io.aneforge.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.testsupport.models.TinyModels;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The worker runs as its own JVM, is killed with SIGKILL in the middle of the partitioned step and
 * started again: the conversion completes, every variant is registered exactly once, and no
 * partition that had finished is rebuilt.
 */
class CrashRecoveryTest {

    @Test
    void aWorkerKilledMidPartitionRecoversAndRedoesOnlyUnfinishedPartitions() throws Exception {
        Stack stack = Stack.get();
        JsonNode c = publishForEveryChip(stack, "crash-bert", "6666666666666666666666666666666666666666", 13);
        long id = c.path("id").asLong();
        int planned = c.path("variants").size();
        assertThat(planned).isGreaterThanOrEqualTo(12);

        killOnceRegistered(stack, id, "crash-worker", 2);
        // Re-read after the kill: a partition may have registered between the last poll and the kill.
        Set<String> registeredAtKill = registered(stack.get("/api/v1/conversions/" + id));
        assertThat(registeredAtKill.size()).as("killed mid-step").isLessThan(planned);
        assertThat(runningExecutions(id)).isEqualTo(1);

        JsonNode done = runToTheEnd(stack, id, "crash-worker");
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        assertThat(done.path("attempts").asInt()).isEqualTo(2);

        // Every variant registered exactly once.
        JsonNode variants = stack.get("/api/v1/models/crash-bert/versions/" + done.path("version").asInt() + "/variants");
        assertThat(variants.size()).isEqualTo(planned);
        // The chips' variants of one build share its package (the spec id without the chip): each build is built by
        // one partition and registered by the others. No build that had a variant registered before the kill was
        // built again; at most the one in flight was redone.
        Map<String, Integer> buildsPerBuild = new HashMap<>();
        Set<String> registeredBuilds = new HashSet<>();
        int builds = 0;
        for (JsonNode v : done.path("variants")) {
            String specId = v.path("specId").asString();
            String build = buildOf(specId);
            builds += v.path("builds").asInt();
            buildsPerBuild.merge(build, v.path("builds").asInt(), Integer::sum);
            if (registeredAtKill.contains(specId)) {
                registeredBuilds.add(build);
                assertThat(v.path("builds").asInt()).as(specId).isLessThanOrEqualTo(1);
            }
        }
        assertThat(buildsPerBuild).hasSizeLessThan(planned);
        for (String b : registeredBuilds) {
            assertThat(buildsPerBuild.get(b)).as(b).isEqualTo(1);
        }
        assertThat(builds).isBetween(buildsPerBuild.size(), buildsPerBuild.size() + 1);
        // Spring Batch: one partition per build (not per variant), one COMPLETED execution of each across both job executions.
        Map<String, Integer> completed = completedSteps(id);
        for (String b : buildsPerBuild.keySet()) {
            assertThat(completed.get("build:" + b)).as(b).isEqualTo(1);
        }
        assertThat(completed.keySet()).noneMatch(step -> step.startsWith("variant:"));
        assertThat(jobExecutions(id)).containsExactly("FAILED", "COMPLETED");
    }

    /**
     * A job begun by a worker from before the build partitions (its partitions named {@code variant:<specId>}) and
     * killed: the restarted worker starts {@code build:<id>} partitions (Spring Batch finds no earlier execution under
     * those names), builds only what the registry does not list as registered, and every variant ends registered
     * once. The old names are made by renaming the killed execution's partitions, as that worker would have named them.
     */
    @Test
    void aJobBegunUnderVariantPartitionNamesRestartsWithBuildPartitionsAndBuildsNothingTwice() throws Exception {
        Stack stack = Stack.get();
        JsonNode c = publishForEveryChip(stack, "legacy-bert", "7777777777777777777777777777777777777777", 17);
        long id = c.path("id").asLong();
        int planned = c.path("variants").size();

        killOnceRegistered(stack, id, "legacy-worker", 1);
        JsonNode atKill = stack.get("/api/v1/conversions/" + id);
        Set<String> registeredAtKill = registered(atKill);
        Map<String, String> chipOfBuild = new HashMap<>();
        atKill.path("variants").forEach(v -> chipOfBuild.putIfAbsent(buildOf(v.path("specId").asString()),
                v.path("specId").asString()));
        assertThat(registeredAtKill.size()).as("killed mid-step").isLessThan(planned);
        // the killed execution's partitions, renamed as the worker before build partitions named them
        int renamed = 0;
        try (Connection db = stack.workerDb.open();
             PreparedStatement s = db.prepareStatement("UPDATE aneforge_batch.batch_step_execution SET step_name = ?"
                     + " WHERE step_name = ? AND job_execution_id IN (SELECT je.job_execution_id" + FOR_CONVERSION + ")")) {
            for (Map.Entry<String, String> b : chipOfBuild.entrySet()) {
                s.setString(1, "variant:" + b.getValue());
                s.setString(2, "build:" + b.getKey());
                s.setString(3, Long.toString(id));
                renamed += s.executeUpdate();
            }
        }
        assertThat(renamed).as("partitions of the killed execution").isPositive();
        assertThat(completedSteps(id).keySet()).noneMatch(step -> step.startsWith("build:"));

        JsonNode done = runToTheEnd(stack, id, "legacy-worker");
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        JsonNode variants = stack.get("/api/v1/models/legacy-bert/versions/" + done.path("version").asInt() + "/variants");
        assertThat(variants.size()).as("every variant registered once").isEqualTo(planned);
        Map<String, Integer> buildsPerBuild = new HashMap<>();
        for (JsonNode v : done.path("variants")) {
            String specId = v.path("specId").asString();
            buildsPerBuild.merge(buildOf(specId), v.path("builds").asInt(), Integer::sum);
            if (registeredAtKill.contains(specId)) {
                assertThat(v.path("builds").asInt()).as(specId + " was registered before the kill").isLessThanOrEqualTo(1);
            }
        }
        for (String specId : registeredAtKill) {
            String b = buildOf(specId);
            assertThat(buildsPerBuild.get(b)).as("build " + b + " was not built again").isEqualTo(1);
        }
        // the restart ran one build partition per build; the variant: names stay only on the killed execution
        Map<String, Integer> completed = completedSteps(id);
        for (String b : buildsPerBuild.keySet()) {
            assertThat(completed.get("build:" + b)).as(b).isEqualTo(1);
        }
        assertThat(jobExecutions(id)).containsExactly("FAILED", "COMPLETED");
    }

    /** Serves a tiny BERT as Hub repo {@code org/<model>} at {@code revision} and publishes it for every chip. */
    private static JsonNode publishForEveryChip(Stack stack, String model, String revision, long seed) throws Exception {
        stack.serve("org/" + model, revision, TinyModels.bert(stack.root.resolve(model), seed));
        List<String> chips = new ArrayList<>();
        stack.get("/api/v1/chips").forEach(c -> chips.add(c.path("id").asString()));
        return stack.publishHub(model, "org/" + model, chips, 32);
    }

    /**
     * Runs worker process {@code worker} on conversion {@code id} until it registered at least {@code variants}
     * variants, then kills it with SIGKILL: no shutdown hook, no listener, the execution stays STARTED.
     */
    private static void killOnceRegistered(Stack stack, long id, String worker, int variants) throws Exception {
        Process process = stack.startWorkerProcess(worker, 1);
        try {
            long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (registered(stack.get("/api/v1/conversions/" + id)).size() < variants) {
                assertThat(System.nanoTime()).as("the worker registered no variants in time; see " + worker + ".log")
                        .isLessThan(end);
                assertThat(process.isAlive()).as("worker process died; see " + stack.root.resolve(worker + ".log")).isTrue();
                Stack.sleep(20);
            }
        } finally {
            process.destroyForcibly();
            process.waitFor();
        }
    }

    /** The spec ids of a conversion's registered variants. */
    private static Set<String> registered(JsonNode conversion) {
        Set<String> registered = new HashSet<>();
        conversion.path("variants").forEach(v -> {
            if (v.path("state").asString().equals("registered")) registered.add(v.path("specId").asString());
        });
        return registered;
    }

    /**
     * Runs worker process {@code worker} until conversion {@code id} ends, and answers the conversion. The worker
     * reports success to the registry before Spring Batch records its job execution as COMPLETED: it is given that
     * moment before it is stopped (a busy machine needs it).
     */
    private static JsonNode runToTheEnd(Stack stack, long id, String worker) throws Exception {
        Process process = stack.startWorkerProcess(worker, 1);
        try {
            JsonNode done = stack.await(id, Duration.ofMinutes(4), "succeeded", "failed");
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!jobExecutions(id).equals(List.of("FAILED", "COMPLETED")) && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            return done;
        } finally {
            process.destroy();
            process.waitFor();
        }
    }

    /** The build a variant's spec id names: the id without its chip, shared by the chips' variants of one package. */
    private static String buildOf(String specId) {
        return specId.substring(specId.indexOf('-') + 1);
    }

    private static final String FOR_CONVERSION = " FROM aneforge_batch.batch_job_execution je"
            + " JOIN aneforge_batch.batch_job_execution_params p ON p.job_execution_id = je.job_execution_id"
            + " WHERE p.parameter_name = 'conversionId' AND p.parameter_value = ?";

    private static int runningExecutions(long id) throws Exception {
        try (Connection c = Stack.get().workerDb.open();
             PreparedStatement s = c.prepareStatement("SELECT count(*)" + FOR_CONVERSION + " AND je.status = 'STARTED'")) {
            s.setString(1, Long.toString(id));
            try (ResultSet r = s.executeQuery()) {
                r.next();
                return r.getInt(1);
            }
        }
    }

    private static List<String> jobExecutions(long id) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = Stack.get().workerDb.open();
             PreparedStatement s = c.prepareStatement("SELECT je.status" + FOR_CONVERSION + " ORDER BY je.job_execution_id")) {
            s.setString(1, Long.toString(id));
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) out.add(r.getString(1));
            }
        }
        return out;
    }

    private static Map<String, Integer> completedSteps(long id) throws Exception {
        Map<String, Integer> out = new HashMap<>();
        try (Connection c = Stack.get().workerDb.open();
             PreparedStatement s = c.prepareStatement("SELECT se.step_name, count(*) FROM aneforge_batch.batch_step_execution se"
                     + " WHERE se.status = 'COMPLETED' AND se.job_execution_id IN (SELECT je.job_execution_id" + FOR_CONVERSION + ")"
                     + " GROUP BY se.step_name")) {
            s.setString(1, Long.toString(id));
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) out.put(r.getString(1), r.getInt(2));
            }
        }
        return out;
    }
}
