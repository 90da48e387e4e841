package io.aneforge.agent.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.condition.OS.LINUX;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;

class PeakMemoryTest {

    @Test
    void parsesVmHwmInKilobytesToBytes() {
        String status = "Name:\tjava\nVmPeak:\t 9000000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n";
        assertThat(PeakMemory.LinuxPeakMemory.parseVmHwmBytes(status)).isEqualTo(204800L * 1024);
        assertThat(PeakMemory.LinuxPeakMemory.parseVmHwmBytes("Name:\tjava\n")).isEqualTo(-1);
    }

    @Test
    @EnabledOnOs(LINUX)
    void thisProcessPeakIsAtLeastItsCurrentResidentSize() throws IOException {
        PeakMemory memory = PeakMemory.forCurrentOs();
        long peak = memory.peakBytes();

        long rssKb = 0;
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                rssKb = Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        assertThat(peak).isGreaterThanOrEqualTo(rssKb * 1024 / 2).isGreaterThan(0);
        if (memory.resetPeak()) {
            assertThat(memory.peakBytes()).isLessThanOrEqualTo(Math.max(peak, memory.peakBytes())).isGreaterThan(0);
        }
    }
}
