package io.aneforge.agent.host;

import java.util.List;
import java.util.Locale;

/** Reads {@link HostFacts} for the machine the JVM runs on. */
public interface HostProbe {

    /**
     * @param runtimes the runtime ids the agent offers (filled in by the caller, who knows
     *     which {@code ModelRuntime}s are available)
     */
    HostFacts read(List<String> runtimes);

    /**
     * This machine's identity, by which the compiled-model cache tells one machine under two names from two machines
     * ({@link MachineIdentity}); never throws: what cannot be read is a reading without an identity, saying why.
     */
    MachineIdentity.Reading machineIdentity();

    /** The probe for this OS: sysctl on macOS, uname/procfs/sysinfo on Linux. */
    static HostProbe forCurrentOs() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (os.startsWith("mac")) {
            return new MacHostProbe(new JnaSysctl(), new JnaHostUuid());
        }
        if (os.startsWith("linux")) {
            return new LinuxHostProbe();
        }
        throw new UnsupportedOperationException("the device agent runs on macOS or Linux; this JVM reports os.name='"
                + System.getProperty("os.name") + "'");
    }
}
