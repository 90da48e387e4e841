package io.aneforge.agent.host;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Structure;
import io.aneforge.io.BoundedFiles;
import io.aneforge.io.IoProblems;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Host facts on Linux: {@code uname(2)} for node name, kernel release/version and machine,
 * {@code /proc/cpuinfo} for the CPU brand and {@code sysinfo(2)} for physical memory.
 * Linux hosts have no Apple chip; they offer only the reference runtime.
 *
 * <p>The machine identity ({@link #machineIdentity(List, Path, Path)}) is {@code /etc/machine-id} (else D-Bus's
 * {@code /var/lib/dbus/machine-id}), the kernel's boot id and this process's pid namespace.
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

    /** Where the machine id may be, in order: systemd's file, then D-Bus's (systems without systemd have only that). */
    static final List<Path> MACHINE_ID_FILES = List.of(Path.of("/etc/machine-id"), Path.of("/var/lib/dbus/machine-id"));
    static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");
    /** machine-id(5): "a single newline-terminated, hexadecimal, 32-character, lowercase ID" (and not all zeros). */
    private static final Pattern MACHINE_ID = Pattern.compile("[0-9a-f]{32}");
    private static final Pattern NAMESPACE = Pattern.compile("pid:\\[\\d{1,20}]");
    /** Far more than any of these files holds: a larger one is not what it should be. */
    private static final int MAX_ID_BYTES = 4096;

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

    @Override
    public MachineIdentity.Reading machineIdentity() {
        return machineIdentity(MACHINE_ID_FILES, BOOT_ID, PidNamespace.SELF);
    }

    /**
     * The identity from the first of {@code machineIdFiles} that holds a machine id, {@code bootId} and the pid
     * namespace link {@code pidNamespace}. A missing file, an empty one (as containers often have) or systemd's
     * {@code uninitialized} (a first boot not yet complete) passes to the next file; a value that is none of these
     * and no machine id either is not guessed around: there is no identity then, as there is none when the boot id or
     * the namespace cannot be read.
     */
    static MachineIdentity.Reading machineIdentity(List<Path> machineIdFiles, Path bootId, Path pidNamespace) {
        List<String> passed = new ArrayList<>();
        String machine = null;
        for (Path file : machineIdFiles) {
            String value;
            try {
                value = BoundedFiles.readString(file, MAX_ID_BYTES).strip();
            } catch (NoSuchFileException e) {
                passed.add(file + " does not exist");
                continue;
            } catch (IOException e) {
                return MachineIdentity.Reading.unavailable("cannot read the machine id from " + file + ": "
                        + IoProblems.describe(e, file));
            }
            if (value.isEmpty() || value.equals("uninitialized")) {
                passed.add(file + (value.isEmpty() ? " is empty" : " says 'uninitialized' (a first boot not complete)"));
                continue;
            }
            if (!MACHINE_ID.matcher(value).matches() || value.chars().allMatch(c -> c == '0')) {
                return MachineIdentity.Reading.unavailable(file + " holds '" + shortened(value) + "', not a machine id"
                        + " (32 lowercase hexadecimal digits, not all zero: machine-id(5)); write one with"
                        + " systemd-machine-id-setup or dbus-uuidgen --ensure");
            }
            machine = value;
            break;
        }
        if (machine == null) {
            return MachineIdentity.Reading.unavailable("no machine id: " + String.join(", ", passed) + "; on a host,"
                    + " write one with systemd-machine-id-setup or dbus-uuidgen --ensure; in a container, mount the"
                    + " host's /etc/machine-id read-only");
        }
        String boot;
        try {
            boot = BoundedFiles.readString(bootId, MAX_ID_BYTES).strip();
        } catch (IOException e) {
            return MachineIdentity.Reading.unavailable("cannot read the boot id from " + bootId + ": "
                    + IoProblems.describe(e, bootId));
        }
        if (!MachineIdentity.isUuid(boot)) {
            return MachineIdentity.Reading.unavailable(bootId + " holds '" + shortened(boot) + "', not a boot id (a UUID)");
        }
        String namespace;
        try {
            namespace = PidNamespace.of(pidNamespace).orElse(null);
        } catch (IOException | UnsupportedOperationException e) {
            return MachineIdentity.Reading.unavailable("cannot read the pid namespace from " + pidNamespace + ": "
                    + (e instanceof IOException io ? IoProblems.describe(io, pidNamespace) : e.getMessage()));
        }
        if (namespace == null) {
            return MachineIdentity.Reading.unavailable("cannot read the pid namespace from " + pidNamespace
                    + ": it does not exist");
        }
        if (!NAMESPACE.matcher(namespace).matches()) {
            return MachineIdentity.Reading.unavailable(pidNamespace + " points to '" + shortened(namespace)
                    + "', not a pid namespace (pid:[<inode>])");
        }
        return MachineIdentity.Reading.of(new MachineIdentity(machine, boot, namespace));
    }

    /** A value for a message: at most 64 characters, control characters shown as '?'. */
    private static String shortened(String value) {
        String printable = value.replaceAll("\\p{Cntrl}", "?");
        return printable.length() <= 64 ? printable : printable.substring(0, 64) + "...";
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
