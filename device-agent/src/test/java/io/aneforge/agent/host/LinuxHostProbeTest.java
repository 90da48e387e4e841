package io.aneforge.agent.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.condition.OS.LINUX;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.io.TempDir;

class LinuxHostProbeTest {

    private static final String MACHINE_ID = "3d1219c7c4c5404aaa1f6d2a48adfda4";
    private static final String BOOT_ID = "3906ab3c-0dff-48d6-ac04-3a62aa7ece64";

    @TempDir
    Path dir;

    @Test
    @EnabledOnOs(LINUX)
    void readsThisLinuxHostThroughJna() throws IOException {
        HostFacts facts = new LinuxHostProbe().read(List.of("reference-cpu"));

        // Cross-check JNA's uname/sysinfo against what the kernel exposes in procfs.
        assertThat(facts.osName()).isEqualTo("Linux");
        assertThat(facts.osVersion()).isEqualTo(Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim());
        assertThat(facts.osBuild()).isEqualTo(Files.readString(Path.of("/proc/sys/kernel/version")).trim());
        assertThat(facts.hostName()).isEqualTo(Files.readString(Path.of("/proc/sys/kernel/hostname")).trim());
        assertThat(facts.arch()).isIn("x86_64", "aarch64");
        long memTotalKb = memTotalKb();
        // MemTotal excludes kernel-reserved memory that sysinfo's totalram also excludes: equal.
        assertThat(facts.memoryBytes()).isEqualTo(memTotalKb * 1024);
        assertThat(facts.chip()).isNull();
        assertThat(facts.cpuBrand()).isNotBlank();
        assertThat(facts.runtimes()).containsExactly("reference-cpu");
    }

    private static long memTotalKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemTotal:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no MemTotal in /proc/meminfo");
    }

    @Test
    void cpuBrandFromRecordedCpuinfo() {
        String x86 = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)  CPU @ 2.20GHz\n";
        assertThat(LinuxHostProbe.cpuBrand(x86, "x86_64")).isEqualTo("Intel(R) Xeon(R) CPU @ 2.20GHz");

        String graviton = "processor\t: 0\nBogoMIPS\t: 243.75\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n";
        assertThat(LinuxHostProbe.cpuBrand(graviton, "aarch64")).isEqualTo("unknown aarch64 CPU");

        String pi = "processor\t: 0\nHardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n";
        assertThat(LinuxHostProbe.cpuBrand(pi, "aarch64")).isEqualTo("BCM2835");
    }

    /** The machine id, boot id and pid namespace from files laid out as on a Linux host. */
    private MachineIdentity.Reading identity(String etcMachineId, String dbusMachineId, String bootId) throws IOException {
        Path etc = dir.resolve("etc-machine-id");
        Path dbus = dir.resolve("dbus-machine-id");
        Path boot = dir.resolve("boot_id");
        Path namespace = dir.resolve("ns-pid");
        for (Path p : List.of(etc, dbus, boot, namespace)) {
            Files.deleteIfExists(p);
        }
        if (etcMachineId != null) {
            Files.writeString(etc, etcMachineId);
        }
        if (dbusMachineId != null) {
            Files.writeString(dbus, dbusMachineId);
        }
        if (bootId != null) {
            Files.writeString(boot, bootId);
        }
        Files.createSymbolicLink(namespace, Path.of("pid:[4026532512]")); // as /proc/self/ns/pid reads
        return LinuxHostProbe.machineIdentity(List.of(etc, dbus), boot, namespace);
    }

    @Test
    void theMachineIdentityIsTheMachineIdTheBootIdAndThePidNamespace() throws IOException {
        MachineIdentity expected = new MachineIdentity(MACHINE_ID, BOOT_ID, "pid:[4026532512]");
        assertThat(identity(MACHINE_ID + "\n", null, BOOT_ID + "\n").identity()).isEqualTo(expected);
        assertThat(identity(null, MACHINE_ID + "\n", BOOT_ID + "\n").identity()).as("D-Bus's file alone")
                .isEqualTo(expected);
        assertThat(identity("", MACHINE_ID, BOOT_ID).identity()).as("an empty /etc/machine-id, as in containers")
                .isEqualTo(expected);
        assertThat(identity("uninitialized\n", MACHINE_ID, BOOT_ID).identity()).as("systemd's first boot")
                .isEqualTo(expected);
    }

    /** No machine id, or one that is none, is no identity: the cache then claims by host name, as before. */
    @Test
    void aMissingOrInvalidMachineIdIsNoIdentityAndSaysWhy() throws IOException {
        Path etc = dir.resolve("etc-machine-id");
        Path dbus = dir.resolve("dbus-machine-id");
        assertThat(identity("", "uninitialized\n", BOOT_ID).unavailable()).isEqualTo("no machine id: " + etc
                + " is empty, " + dbus + " says 'uninitialized' (a first boot not complete); on a host, write one with"
                + " systemd-machine-id-setup or dbus-uuidgen --ensure; in a container, mount the host's"
                + " /etc/machine-id read-only");
        assertThat(identity(null, null, BOOT_ID).unavailable()).startsWith("no machine id: " + etc + " does not exist, "
                + dbus + " does not exist;");

        assertThat(identity("3D1219C7C4C5404AAA1F6D2A48ADFDA4\n", MACHINE_ID, BOOT_ID).unavailable())
                .as("uppercase is not machine-id(5)'s format, and is not passed over for the next file")
                .isEqualTo(etc + " holds '3D1219C7C4C5404AAA1F6D2A48ADFDA4', not a machine id (32 lowercase"
                        + " hexadecimal digits, not all zero: machine-id(5)); write one with systemd-machine-id-setup or"
                        + " dbus-uuidgen --ensure");
        assertThat(identity("0".repeat(32), null, BOOT_ID).unavailable()).startsWith(etc + " holds '" + "0".repeat(32)
                + "', not a machine id");
        assertThat(identity(MACHINE_ID + "0", null, BOOT_ID).unavailable()).contains("not a machine id");
        assertThat(identity("machine\u0007id", null, BOOT_ID).unavailable()).startsWith(etc + " holds 'machine?id'");

        assertThat(identity(MACHINE_ID, null, null).unavailable()).isEqualTo("cannot read the boot id from "
                + dir.resolve("boot_id") + ": it does not exist");
        assertThat(identity(MACHINE_ID, null, "not-a-uuid").unavailable()).isEqualTo(dir.resolve("boot_id")
                + " holds 'not-a-uuid', not a boot id (a UUID)");
    }

    @Test
    @EnabledOnOs(LINUX)
    void readsThisLinuxHostsMachineIdentity() throws IOException {
        MachineIdentity.Reading reading = new LinuxHostProbe().machineIdentity();
        assertThat(reading.found().map(MachineIdentity::pidNamespace).orElse(null))
                .as("%s", reading).isIn(null, Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString());
        if (reading.identity() != null) {
            assertThat(reading.identity().boot()).isEqualTo(Files.readString(Path.of("/proc/sys/kernel/random/boot_id"))
                    .strip());
            assertThat(reading.identity().machine()).matches("[0-9a-f]{32}");
        } else {
            assertThat(reading.unavailable()).isNotBlank();
        }
    }
}
