package io.aneforge.agent.host;

/**
 * Named sysctl values (macOS). A seam so that the parsing of recorded values can be tested
 * on any host; {@link JnaSysctl} reads the real ones.
 */
public interface Sysctl {

    /** A string value such as {@code hw.model}; throws {@link HostProbeException} when absent. */
    String string(String name);

    /** A 64-bit integer value such as {@code hw.memsize}. */
    long int64(String name);
}
