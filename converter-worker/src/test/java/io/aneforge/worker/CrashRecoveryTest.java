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
        stack.serve("org/crash-bert", "6666666666666666666666666666666666666666",
                TinyModels.bert(stack.root.resolve("crash-bert"), 13));
        List<String> chips = new ArrayList<>();
        stack.get("/api/v1/chips").forEach(c -> chips.add(c.path("id").asString()));
        JsonNode c = stack.publishHub("crash-bert", "org/crash-bert", chips, 32);
        long id = c.path("id").asLong();
        int planned = c.path("variants").size();
        assertThat(planned).isGreaterThanOrEqualTo(12);

        Process first = stack.startWorkerProcess("crash-worker", 1);
        Set<String> registeredAtKill = new HashSet<>();
        try {
            long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (registeredAtKill.size() < 2) {
                assertThat(System.nanoTime()).as("the worker registered no variants in time; see crash-worker.log").isLessThan(end);
                assertThat(first.isAlive()).as("worker process died; see " + stack.root.resolve("crash-worker.log")).isTrue();
                registeredAtKill.clear();
                stack.get("/api/v1/conversions/" + id).path("variants").forEach(v -> {
                    if (v.path("state").asString().equals("registered")) registeredAtKill.add(v.path("specId").asString());
                });
                Stack.sleep(20);
            }
        } finally {
            first.destroyForcibly(); // SIGKILL: no shutdown hook, no listener, the execution stays STARTED
            first.waitFor();
        }
        // Re-read after the kill: a partition may have registered between the last poll and the kill.
        registeredAtKill.clear();
        stack.get("/api/v1/conversions/" + id).path("variants").forEach(v -> {
            if (v.path("state").asString().equals("registered")) registeredAtKill.add(v.path("specId").asString());
        });
        assertThat(registeredAtKill.size()).as("killed mid-step").isLessThan(planned);
        assertThat(runningExecutions(id)).isEqualTo(1);

        Process second = stack.startWorkerProcess("crash-worker", 1);
        JsonNode done;
        try {
            done = stack.await(id, Duration.ofMinutes(4), "succeeded", "failed");
            // The worker reports success to the registry before Spring Batch records its job execution
            // as COMPLETED: give it that moment before stopping the process (a busy machine needs it).
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!jobExecutions(id).equals(List.of("FAILED", "COMPLETED")) && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
        } finally {
            second.destroy();
            second.waitFor();
        }
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
            String build = specId.substring(specId.indexOf('-') + 1);
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
        stack.serve("org/legacy-bert", "7777777777777777777777777777777777777777",
                TinyModels.bert(stack.root.resolve("legacy-bert"), 17));
        List<String> chips = new ArrayList<>();
        stack.get("/api/v1/chips").forEach(c -> chips.add(c.path("id").asString()));
        JsonNode c = stack.publishHub("legacy-bert", "org/legacy-bert", chips, 32);
        long id = c.path("id").asLong();
        int planned = c.path("variants").size();

        Process first = stack.startWorkerProcess("legacy-worker", 1);
        Set<String> registeredAtKill = new HashSet<>();
        try {
            long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (registeredAtKill.isEmpty()) {
                assertThat(System.nanoTime()).as("the worker registered no variants in time; see legacy-worker.log").isLessThan(end);
                assertThat(first.isAlive()).as("worker process died; see " + stack.root.resolve("legacy-worker.log")).isTrue();
                stack.get("/api/v1/conversions/" + id).path("variants").forEach(v -> {
                    if (v.path("state").asString().equals("registered")) registeredAtKill.add(v.path("specId").asString());
                });
                Stack.sleep(20);
            }
        } finally {
            first.destroyForcibly();
            first.waitFor();
        }
        registeredAtKill.clear();
        Map<String, String> chipOfBuild = new HashMap<>();
        stack.get("/api/v1/conversions/" + id).path("variants").forEach(v -> {
            String specId = v.path("specId").asString();
            chipOfBuild.putIfAbsent(specId.substring(specId.indexOf('-') + 1), specId);
            if (v.path("state").asString().equals("registered")) registeredAtKill.add(specId);
        });
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

        Process second = stack.startWorkerProcess("legacy-worker", 1);
        JsonNode done;
        try {
            done = stack.await(id, Duration.ofMinutes(4), "succeeded", "failed");
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!jobExecutions(id).equals(List.of("FAILED", "COMPLETED")) && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
        } finally {
            second.destroy();
            second.waitFor();
        }
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("succeeded");
        JsonNode variants = stack.get("/api/v1/models/legacy-bert/versions/" + done.path("version").asInt() + "/variants");
        assertThat(variants.size()).as("every variant registered once").isEqualTo(planned);
        Map<String, Integer> buildsPerBuild = new HashMap<>();
        for (JsonNode v : done.path("variants")) {
            String specId = v.path("specId").asString();
            buildsPerBuild.merge(specId.substring(specId.indexOf('-') + 1), v.path("builds").asInt(), Integer::sum);
            if (registeredAtKill.contains(specId)) {
                assertThat(v.path("builds").asInt()).as(specId + " was registered before the kill").isLessThanOrEqualTo(1);
            }
        }
        for (String specId : registeredAtKill) {
            String b = specId.substring(specId.indexOf('-') + 1);
            assertThat(buildsPerBuild.get(b)).as("build " + b + " was not built again").isEqualTo(1);
        }
        // the restart ran one build partition per build; the variant: names stay only on the killed execution
        Map<String, Integer> completed = completedSteps(id);
        for (String b : buildsPerBuild.keySet()) {
            assertThat(completed.get("build:" + b)).as(b).isEqualTo(1);
        }
        assertThat(jobExecutions(id)).containsExactly("FAILED", "COMPLETED");
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
