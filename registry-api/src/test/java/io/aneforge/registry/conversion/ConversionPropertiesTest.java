package io.aneforge.registry.conversion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.registry.job.JobProperties;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/**
 * The release bounds are configuration, bound from {@code aneforge.conversions.*} and {@code aneforge.jobs.*} as
 * Spring binds them at start, and a bad value is refused with a message naming the variable to fix.
 */
class ConversionPropertiesTest {

    private static <T> T bind(String prefix, Class<T> type, Map<String, String> values) {
        return new Binder(new MapConfigurationPropertySource(values)).bindOrCreate(prefix, type);
    }

    @Test
    void theReleaseBoundsAreBoundWithTheirDefaults() {
        ConversionProperties defaults = bind("aneforge.conversions", ConversionProperties.class, Map.of());
        assertThat(defaults.freeReleases()).isEqualTo(10);
        assertThat(defaults.maxAttempts()).isEqualTo(3);
        assertThat(defaults.leaseDuration()).isEqualTo(Duration.ofSeconds(60));
        assertThat(defaults.maxHandBacks()).isEqualTo(3);
        assertThat(bind("aneforge.conversions", ConversionProperties.class,
                Map.of("aneforge.conversions.max-hand-backs", "0")).maxHandBacks()).isZero();
        assertThat(bind("aneforge.conversions", ConversionProperties.class,
                Map.of("aneforge.conversions.free-releases", "0")).freeReleases()).isZero();
        assertThat(bind("aneforge.jobs", JobProperties.class, Map.of()).maxHandBacks()).isEqualTo(2);
        assertThat(bind("aneforge.jobs", JobProperties.class, Map.of("aneforge.jobs.max-hand-backs", "5")).maxHandBacks())
                .isEqualTo(5);
    }

    @Test
    void aBadBoundIsRefusedNamingTheVariable() {
        assertThatThrownBy(() -> bind("aneforge.conversions", ConversionProperties.class,
                Map.of("aneforge.conversions.free-releases", "-1")))
                .rootCause().hasMessageContaining("ANEFORGE_CONVERSIONS_FREE_RELEASES").hasMessageContaining("got -1");
        assertThatThrownBy(() -> bind("aneforge.conversions", ConversionProperties.class,
                Map.of("aneforge.conversions.max-hand-backs", "-1")))
                .rootCause().hasMessageContaining("ANEFORGE_CONVERSIONS_MAX_HAND_BACKS").hasMessageContaining("got -1");
        assertThatThrownBy(() -> bind("aneforge.jobs", JobProperties.class, Map.of("aneforge.jobs.max-hand-backs", "-2")))
                .rootCause().hasMessageContaining("ANEFORGE_JOBS_MAX_HAND_BACKS").hasMessageContaining("got -2");
        assertThatThrownBy(() -> bind("aneforge.conversions", ConversionProperties.class,
                Map.of("aneforge.conversions.max-attempts", "0")))
                .rootCause().hasMessageContaining("ANEFORGE_CONVERSIONS_MAX_ATTEMPTS");
    }
}
