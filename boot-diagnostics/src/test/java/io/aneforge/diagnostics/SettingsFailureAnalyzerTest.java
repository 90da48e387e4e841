package io.aneforge.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.diagnostics.settings.SettingsApp;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;

/**
 * A malformed setting stops the start before any bean is created (so before Flyway migrates), with a report
 * naming the property, its environment variable, the value and the accepted form.
 */
@ExtendWith(OutputCaptureExtension.class)
class SettingsFailureAnalyzerTest {

    @BeforeEach
    void reset() {
        SettingsApp.MIGRATED.set(false);
    }

    @Test
    void aMalformedDurationStopsTheStartBeforeAnyBeanAndNamesTheVariable(CapturedOutput output) {
        assertThatThrownBy(() -> start(Map.of("demo.cache-ttl", "five")))
                .hasRootCauseInstanceOf(IllegalArgumentException.class)
                .isInstanceOf(BindException.class);
        assertThat(SettingsApp.MIGRATED).as("no bean (Flyway) created").isFalse();
        assertThat(output.getOut() + output.getErr())
                .contains("APPLICATION FAILED TO START", "demo-app cannot start", "demo.cache-ttl",
                        "DEMO_CACHE_TTL", "'five'", "a duration", "5s");
    }

    @Test
    void theAnalysisNamesPropertyVariableValueAndForm() {
        BindException failure = bindFailure(Map.of("demo.max-attempts", "three"));

        FailureAnalysis analysis = new SettingsFailureAnalyzer(environment(Map.of())).analyze(
                new IllegalStateException("wrapped", failure));

        assertThat(analysis).isNotNull();
        assertThat(analysis.getDescription()).contains("demo.max-attempts", "DEMO_MAX_ATTEMPTS", "'three'");
        assertThat(analysis.getAction()).contains("Set DEMO_MAX_ATTEMPTS to a whole number");
    }

    @Test
    void goodSettingsStartAndOtherFailuresAreLeftAlone() {
        start(Map.of("demo.cache-ttl", "5s")).close();
        assertThat(SettingsApp.MIGRATED).isTrue();
        assertThat(new SettingsFailureAnalyzer(environment(Map.of())).analyze(new IllegalStateException("x")))
                .isNull();
    }

    @Test
    void variableNamesFollowRelaxedBinding() {
        assertThat(SettingsFailureAnalyzer.environmentVariable("aneforge.s3.access-key"))
                .isEqualTo("ANEFORGE_S3_ACCESS_KEY");
        assertThat(SettingsFailureAnalyzer.expectedForm(Duration.class)).contains("5s");
    }

    private static org.springframework.context.ConfigurableApplicationContext start(Map<String, Object> settings) {
        SpringApplication app = new SpringApplication(SettingsApp.class);
        app.setWebApplicationType(WebApplicationType.NONE);
        app.setEnvironment(environment(settings));
        return app.run();
    }

    private static BindException bindFailure(Map<String, Object> settings) {
        try {
            org.springframework.boot.context.properties.bind.Binder.get(environment(settings))
                    .bind("demo", SettingsApp.Settings.class);
        } catch (BindException e) {
            return e;
        }
        throw new AssertionError("binding " + settings + " did not fail");
    }

    private static StandardEnvironment environment(Map<String, Object> settings) {
        StandardEnvironment environment = new StandardEnvironment();
        Map<String, Object> all = new java.util.HashMap<>(settings);
        all.put("spring.application.name", "demo-app");
        environment.getPropertySources().addFirst(new MapPropertySource("test", all));
        return environment;
    }
}
