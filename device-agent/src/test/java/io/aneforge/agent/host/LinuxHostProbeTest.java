package io.aneforge.agent.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.condition.OS.LINUX;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;

class LinuxHostProbeTest {

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
}
