package io.aneforge.agent.instance;

import java.nio.file.Path;

/**
 * Another agent process, for {@link AgentInstanceTest}: run as its own JVM on the test classpath, it claims an
 * instance on the cache directory {@code args[0]} as an agent does, prints {@code instance <id> <lasting>} (among its log lines), and holds
 * it until its standard input closes (the test closing it, or the test's JVM ending).
 */
final class InstanceHolder {

    private InstanceHolder() {
    }

    public static void main(String[] args) throws Exception {
        try (AgentInstance instance = AgentInstance.claim(Path.of(args[0]))) {
            System.out.println("instance " + instance.id() + " " + instance.lasting());
            System.out.flush();
            while (System.in.read() >= 0) {
                // wait for the end of input
            }
        }
    }
}
