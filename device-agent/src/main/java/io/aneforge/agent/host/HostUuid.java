package io.aneforge.agent.host;

/**
 * The Mac's hardware UUID (System Information's "Hardware UUID", IOKit's {@code IOPlatformUUID}): a seam as
 * {@link Sysctl} is, so that what is made of the value can be tested on any host; {@link JnaHostUuid} reads the real
 * one. Not {@code kern.uuid}: that sysctl is the UUID of the kernel binary (XNU sets it from the kernel's Mach-O
 * {@code LC_UUID}), the same on every Mac running one macOS build.
 */
public interface HostUuid {

    /** The UUID as {@code uuid_unparse_upper(3)} writes it; throws {@link HostProbeException} when it cannot be read. */
    String read();
}
