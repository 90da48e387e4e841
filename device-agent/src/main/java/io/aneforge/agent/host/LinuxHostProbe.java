package io.aneforge.agent.host;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Structure;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Host facts on Linux: {@code uname(2)} for node name, kernel release/version and machine,
 * {@code /proc/cpuinfo} for the CPU brand and {@code sysinfo(2)} for physical memory.
 * Linux hosts have no Apple chip; they offer only the reference runtime.
 */
public final class LinuxHostProbe implements HostProbe {

    /** glibc's {@code struct utsname}: six fields of {@code _UTSNAME_LENGTH} (65) bytes. */
    @Structure.FieldOrder({"sysname", "nodename", "release", "version", "machine", "domainname"})
    public static class Utsname extends Structure {
        public byte[] sysname = new byte[65];
        public byte[] nodename = new byte[65];
        public byte[] release = new byte[65];
        public byte[] version = new byte[65];
        public byte[] machine = new byte[65];
        public byte[] domainname = new byte[65];
    }

    /**
     * {@code struct sysinfo} (linux/sysinfo.h). The trailing pad {@code _f} is
     * {@code 20 - 2*sizeof(long) - sizeof(int)} bytes: 0 on LP64, 8 on 32-bit; we allocate the
     * 32-bit size unconditionally (the kernel writes only what it defines).
     */
    @Structure.FieldOrder({"uptime", "loads", "totalram", "freeram", "sharedram", "bufferram", "totalswap",
            "freeswap", "procs", "pad", "totalhigh", "freehigh", "memUnit", "reserved"})
    public static class SysInfo extends Structure {
        public NativeLong uptime;
        public NativeLong[] loads = new NativeLong[3];
        public NativeLong totalram;
        public NativeLong freeram;
        public NativeLong sharedram;
        public NativeLong bufferram;
        public NativeLong totalswap;
        public NativeLong freeswap;
        public short procs;
        public short pad;
        public NativeLong totalhigh;
        public NativeLong freehigh;
        public int memUnit;
        public byte[] reserved = new byte[8];
    }

    interface LibC extends Library {
        int uname(Utsname buf);

        int sysinfo(SysInfo info);
    }

    private final LibC libc;
    private final Path cpuinfo;

    public LinuxHostProbe() {
        this(Path.of("/proc/cpuinfo"));
    }

    LinuxHostProbe(Path cpuinfo) {
        this.libc = Native.load("c", LibC.class);
        this.cpuinfo = cpuinfo;
    }

    @Override
    public HostFacts read(List<String> runtimes) {
        Utsname u = new Utsname();
        if (libc.uname(u) != 0) {
            throw new HostProbeException("uname(2) failed with errno " + Native.getLastError());
        }
        String machine = cString(u.machine);
        return new HostFacts(
                cString(u.nodename),
                "Linux",
                cString(u.release),
                cString(u.version),
                machine,
                cpuBrand(readCpuinfo(), machine),
                physicalMemoryBytes(),
                null,
                runtimes);
    }

    long physicalMemoryBytes() {
        SysInfo info = new SysInfo();
        if (libc.sysinfo(info) != 0) {
            throw new HostProbeException("sysinfo(2) failed with errno " + Native.getLastError());
        }
        // totalram is counted in units of mem_unit bytes (mem_unit is 0 on very old kernels = 1).
        long unit = info.memUnit == 0 ? 1 : Integer.toUnsignedLong(info.memUnit);
        return info.totalram.longValue() * unit;
    }

    private String readCpuinfo() {
        try {
            return Files.readString(cpuinfo, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new HostProbeException("cannot read " + cpuinfo + " for the CPU brand: " + e.getMessage(), e);
        }
    }

    /**
     * The CPU brand from {@code /proc/cpuinfo}: {@code model name} on x86, else {@code Hardware}
     * or {@code Model} (some ARM boards), else "unknown &lt;machine&gt; CPU" (aarch64 servers often
     * report only implementer/part numbers).
     */
    static String cpuBrand(String cpuinfoText, String machine) {
        for (String key : List.of("model name", "Hardware", "Model")) {
            for (String line : cpuinfoText.split("\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equals(key)) {
                    String value = line.substring(colon + 1).trim().replaceAll("\\s+", " ");
                    if (!value.isEmpty()) {
                        return value;
                    }
                }
            }
        }
        return "unknown " + machine + " CPU";
    }

    private static String cString(byte[] bytes) {
        int n = 0;
        while (n < bytes.length && bytes[n] != 0) {
            n++;
        }
        return new String(bytes, 0, n, StandardCharsets.UTF_8);
    }
}
