package io.aneforge.bench;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Two builds of the converter side by side in one JVM ({@code bench/ab.sh}): each build's classes in
 * a class loader of their own, one default {@code convert} of all-MiniLM-L6-v2 each per round,
 * alternating which goes first, warm-up rounds discarded. Prints the medians of wall and process CPU
 * time per convert and the median of the per-round new/old ratios.
 *
 * <p>Why not JMH forks: on a shared 2-vCPU machine the JIT keeps compiling for 20–30 converts (each
 * convert is a large, varied program), and a fork's speed drifts with the host's load, so forks of the
 * old and new code measured minutes apart differed by more than the change (eighth and ninth rounds).
 * Here both builds see the same load at the same time, and the ratio is taken within each round.
 *
 * <p>This class names no project type: everything it runs is loaded through the two loaders (the
 * application class path holds only this module's classes, whose other types it never touches).
 * Usage: {@code ConvertAB <old class path> <new class path> <samples> <warm-up rounds> <rounds>}.
 */
public final class ConvertAB {

    private ConvertAB() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: ConvertAB <old class path> <new class path> <samples> <warm-up rounds> <rounds>");
            System.exit(2);
        }
        String[] paths = {args[0], args[1]};
        int samples = Integer.parseInt(args[2]);
        int warmup = Integer.parseInt(args[3]);
        int rounds = Integer.parseInt(args[4]);
        String[] names = {"old", "new"};
        Method[] run = new Method[2];
        ClassLoader[] loaders = new ClassLoader[2];
        Path work = Files.createTempDirectory("convert-ab");
        Path source = null;
        for (int v = 0; v < 2; v++) {
            List<URL> urls = new ArrayList<>();
            for (String p : paths[v].split(java.io.File.pathSeparator)) {
                if (!p.isBlank()) {
                    urls.add(Path.of(p).toUri().toURL());
                }
            }
            loaders[v] = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
            run[v] = loaders[v].loadClass("io.aneforge.cli.AneForge")
                    .getMethod("run", PrintWriter.class, PrintWriter.class, String[].class);
            if (source == null) {
                source = (Path) loaders[v].loadClass("io.aneforge.source.MiniLmSnapshot")
                        .getMethod("write", Path.class).invoke(null, work.resolve("all-MiniLM-L6-v2"));
            }
        }
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long[][] wall = new long[2][rounds];
        long[][] cpu = new long[2][rounds];
        for (int r = 0; r < warmup + rounds; r++) {
            for (int k = 0; k < 2; k++) {
                int v = r % 2 == 0 ? k : 1 - k;
                Thread.currentThread().setContextClassLoader(loaders[v]);
                Path out = work.resolve("out-" + r + "-" + names[v]);
                StringWriter text = new StringWriter();
                PrintWriter pw = new PrintWriter(text);
                long c0 = os.getProcessCpuTime();
                long t0 = System.nanoTime();
                int code = (Integer) run[v].invoke(null, pw, pw, new String[]{"convert", "--source", source.toString(),
                        "--out", out.toString(), "--chips", "A17_PRO", "--seq-len", "128",
                        "--samples", Integer.toString(samples), "--progress", "plain"});
                long w = (System.nanoTime() - t0) / 1_000_000;
                long c = (os.getProcessCpuTime() - c0) / 1_000_000;
                if (code != 0) {
                    throw new IllegalStateException(names[v] + " convert exited with " + code + ":\n" + text);
                }
                if (r >= warmup) {
                    wall[v][r - warmup] = w;
                    cpu[v][r - warmup] = c;
                }
                delete(out);
            }
        }
        delete(work);
        for (int v = 0; v < 2; v++) {
            System.out.printf("samples=%d %s: wall %s ms, CPU %s ms%n", samples, names[v], quartiles(wall[v]), quartiles(cpu[v]));
        }
        double[] wr = new double[rounds];
        double[] cr = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            wr[r] = (double) wall[1][r] / wall[0][r];
            cr[r] = (double) cpu[1][r] / cpu[0][r];
        }
        System.out.printf("new/old per round: wall %s, CPU %s%n", quartiles(wr), quartiles(cr));
        System.exit(0); // the loaders' kernel pools are daemon threads, the JIT's are not ours to wait for
    }

    private static String quartiles(long[] values) {
        long[] s = values.clone();
        Arrays.sort(s);
        return "median " + s[s.length / 2] + " (p25 " + s[s.length / 4] + ", p75 " + s[3 * s.length / 4] + ")";
    }

    private static String quartiles(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        return String.format("median %.3f (p25 %.3f, p75 %.3f)", s[s.length / 2], s[s.length / 4], s[3 * s.length / 4]);
    }

    private static void delete(Path path) throws java.io.IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
