package io.aneforge.worker.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.worker.registry.RegistryException;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import io.aneforge.testsupport.time.MutableClock;

/**
 * A refused worker token makes the worker unready naming ANEFORGE_WORKER_TOKEN, is logged once and then rarely,
 * and slows polling; a successful call makes it ready again.
 */
@ExtendWith(OutputCaptureExtension.class)
class RegistryHealthTest {

    private static final URI REGISTRY = URI.create("http://registry:8080");
    private static final Duration POLL = Duration.ofSeconds(5);

    private final MutableClock clock = new MutableClock();
    private final RegistryHealth health = new RegistryHealth(REGISTRY, clock);

    @Test
    void aRefusedTokenIsDownNamingTheVariableLoggedOnceAndBacksOff(CapturedOutput output) {
        assertThat(health.health().getStatus()).isEqualTo(Status.UNKNOWN);

        Duration total = Duration.ZERO;
        Duration last = null;
        for (int i = 0; i < 12; i++) {
            last = health.failed(refused(401), POLL);
            total = total.plus(last);
            clock.advance(Duration.ofSeconds(4)); // probes and polls well inside the first minute
        }

        assertThat(health.health().getStatus()).isEqualTo(Status.DOWN);
        assertThat(String.valueOf(health.health().getDetails().get("error")))
                .contains("ANEFORGE_WORKER_TOKEN", "worker (or admin) role", "http://registry:8080");
        assertThat(count(output.getOut(), "ANEFORGE_WORKER_TOKEN")).as("one log line in the first minute").isEqualTo(1);
        assertThat(output.getOut()).contains("ERROR");
        assertThat(last).isEqualTo(RegistryHealth.MAX_REFUSED_WAIT);
        assertThat(health.failed(refused(401), POLL)).isEqualTo(RegistryHealth.MAX_REFUSED_WAIT);

        clock.advance(Duration.ofMinutes(1));
        health.failed(refused(401), POLL);
        assertThat(count(output.getOut(), "ANEFORGE_WORKER_TOKEN")).as("repeated after a minute").isEqualTo(2);
        assertThat(output.getOut()).contains("still failing");

        health.succeeded();
        assertThat(health.health().getStatus()).isEqualTo(Status.UP);
        assertThat(output.getOut()).contains("work again");
    }

    @Test
    void aWrongRoleAndAnUnreachableRegistryNameTheirSettingsWithoutSlowingTheLatter() {
        health.failed(refused(403), POLL);
        assertThat(String.valueOf(health.health().getDetails().get("error"))).contains("ANEFORGE_WORKER_TOKEN needs");

        RegistryException unreachable = new RegistryException("registry at http://registry:8080 is unreachable",
                0, null, new IOException("Connection refused"));
        assertThat(health.failed(unreachable, POLL)).isEqualTo(POLL);
        assertThat(health.failed(unreachable, POLL)).isEqualTo(POLL);
        assertThat(health.health().getStatus()).isEqualTo(Status.DOWN);
        assertThat(String.valueOf(health.health().getDetails().get("error"))).contains("ANEFORGE_REGISTRY_URL");
    }

    private static RegistryException refused(int status) {
        return new RegistryException("POST /api/v1/conversions/lease failed: HTTP " + status, status, null, null);
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) n++;
        return n;
    }
}
