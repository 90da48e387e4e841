package io.aneforge.worker;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * The default worker id when {@code ANEFORGE_WORKER_ID} is not set: this machine's host name. Not just the
 * {@code HOSTNAME} variable: bash sets it but does not export it, so a worker started from a shell would
 * not see it, and every such worker would get one and the same fallback id, and recover (restart) another
 * worker's interrupted Spring Batch executions as its own.
 *
 * <p>Sources, cheapest first: {@code HOSTNAME} if exported (containers), then {@code /etc/hostname} (a file read, no
 * DNS), then {@link InetAddress#getLocalHost()} last (macOS has no /etc/hostname), which also resolves the name and
 * can block for seconds where DNS is broken.
 */
public final class WorkerId {

    private WorkerId() {
    }

    /** This host's name: {@code HOSTNAME} if exported (containers), else /etc/hostname, else the system's host name. */
    public static String ofThisHost() {
        return resolve(System.getenv("HOSTNAME"), () -> InetAddress.getLocalHost().getHostName(), Path.of("/etc/hostname"));
    }

    static String resolve(String hostnameVariable, Callable<String> localHost, Path etcHostname) {
        if (hostnameVariable != null && !hostnameVariable.isBlank()) return hostnameVariable.trim();
        String why = "";
        try {
            if (Files.isRegularFile(etcHostname)) {
                String name = Files.readString(etcHostname, StandardCharsets.UTF_8).trim();
                if (!name.isEmpty()) return name;
            }
        } catch (IOException e) {
            why = etcHostname + ": " + e.getMessage() + "; ";
        }
        try {
            String name = localHost.call();
            if (name != null && !name.isBlank()) return name.trim();
            why += "the system reports no host name";
        } catch (UnknownHostException e) {
            // getLocalHost resolves the name too; an unresolvable name still starts its message ("name: name: ...").
            String m = e.getMessage() == null ? "" : e.getMessage();
            int colon = m.indexOf(':');
            if (colon > 0) return m.substring(0, colon).trim();
            why += e.toString();
        } catch (Exception e) {
            why += e.toString();
        }
        throw new IllegalStateException("ANEFORGE_WORKER_ID is not set and this machine's host name cannot be found (" + why
                + "; " + etcHostname + " is missing or empty): set ANEFORGE_WORKER_ID to an id that is stable across restarts "
                + "and unique among the workers, e.g. the machine's name");
    }
}
