package io.aneforge.bench.queue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * CPU time that the registry, its PostgreSQL backends (plus the WAL writer) and this load
 * generator spend, read from Linux's {@code /proc}. Divided by the jobs done it gives a cost per
 * job that, unlike jobs/s, barely moves when other work shares the machine: on {@code n} idle
 * cores the queue can do at most {@code n × 1000 / total ms} jobs/s.
 */
final class CpuMeter {

    /** CPU seconds per party at one instant. */
    record Sample(double registry, double postgres, double loadGenerator) {}

    private static final double TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux ABI Java runs on

    private final long registryPid;
    private final String database;

    private CpuMeter(long registryPid, String database) {
        this.registryPid = registryPid;
        this.database = database;
    }

    /** From QUEUE_REGISTRY_PID and QUEUE_DATABASE (set by bench/queue.sh); absent parties count as 0. */
    static CpuMeter fromEnvironment() {
        String pid = System.getenv("QUEUE_REGISTRY_PID");
        return new CpuMeter(pid == null || pid.isBlank() ? -1 : Long.parseLong(pid.trim()), System.getenv("QUEUE_DATABASE"));
    }

    Sample sample() {
        double registry = registryPid > 0 ? seconds(Path.of("/proc", Long.toString(registryPid))) : 0;
        double postgres = 0;
        if (database != null && !database.isBlank() && Files.isDirectory(Path.of("/proc"))) {
            try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
                for (Path p : procs) {
                    String cmd = cmdline(p);
                    // PostgreSQL titles its processes: "postgres: user db host(port) state", "postgres: 15/main: walwriter"
                    if (cmd.startsWith("postgres: ") && (cmd.contains(" " + database + " ") || cmd.endsWith("walwriter"))) {
                        postgres += seconds(p);
                    }
                }
            } catch (IOException e) {
                postgres = Double.NaN;
            }
        }
        double self = seconds(Path.of("/proc/self"));
        return new Sample(registry, postgres, self);
    }

    String perJob(Sample before, Sample after, long jobs) {
        double r = (after.registry() - before.registry()) * 1000 / jobs;
        double p = (after.postgres() - before.postgres()) * 1000 / jobs;
        double l = (after.loadGenerator() - before.loadGenerator()) * 1000 / jobs;
        double total = r + p + l;
        int cores = Runtime.getRuntime().availableProcessors();
        return String.format(Locale.ROOT, "queue: CPU per job: registry %.2f ms, PostgreSQL %.2f ms, load generator %.2f ms,"
                + " total %.2f ms -> CPU-bound ceiling on %d idle cores: %.0f jobs/s", r, p, l, total, cores,
                cores * 1000 / total);
    }

    private static double seconds(Path proc) {
        try {
            String stat = Files.readString(proc.resolve("stat"), StandardCharsets.US_ASCII);
            // fields after the ")" that closes the command name: state is field 3, utime 14, stime 15
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
        } catch (IOException | RuntimeException e) {
            return 0; // the process ended
        }
    }

    private static String cmdline(Path proc) {
        try {
            return new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ').trim();
        } catch (IOException e) {
            return "";
        }
    }
}
