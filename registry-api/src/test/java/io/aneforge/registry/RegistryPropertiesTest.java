package io.aneforge.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** Limits bound as Spring binds them at start: a bad value stops the registry naming the variable, never a silent default. */
class RegistryPropertiesTest {

    private static RegistryProperties bind(Map<String, String> values) {
        return new Binder(new MapConfigurationPropertySource(values)).bindOrCreate("aneforge", RegistryProperties.class);
    }

    @Test
    void unsetLimitsTakeTheirDefaultsAndGivenOnesAreKept() {
        RegistryProperties defaults = bind(Map.of());
        assertThat(defaults.blobs().maxSize()).isEqualTo(2L << 30);
        assertThat(defaults.archive().maxEntries()).isEqualTo(10_000);
        assertThat(defaults.archive().maxUncompressedSize()).isEqualTo(8L << 30);
        assertThat(defaults.cacheTtl()).isEqualTo(Duration.ofSeconds(5));
        RegistryProperties set = bind(Map.of("aneforge.blobs.max-size", "1024", "aneforge.archive.max-entries", "7",
                "aneforge.cache-ttl", "0s"));
        assertThat(set.blobs().maxSize()).isEqualTo(1024);
        assertThat(set.archive().maxEntries()).isEqualTo(7);
        assertThat(set.archive().maxUncompressedSize()).isEqualTo(8L << 30);
        assertThat(set.cacheTtl()).isZero();
    }

    @Test
    void aBadLimitIsRefusedNamingTheVariable() {
        Map<String, String> bad = Map.of(
                "aneforge.blobs.max-size", "ANEFORGE_BLOBS_MAX_SIZE",
                "aneforge.archive.max-entries", "ANEFORGE_ARCHIVE_MAX_ENTRIES",
                "aneforge.archive.max-uncompressed-size", "ANEFORGE_ARCHIVE_MAX_UNCOMPRESSED_SIZE");
        for (Map.Entry<String, String> b : bad.entrySet()) {
            for (String value : new String[] {"-1", "0"}) {
                assertThatThrownBy(() -> bind(Map.of(b.getKey(), value))).as(b.getKey() + "=" + value)
                        .rootCause().hasMessageContaining(b.getValue()).hasMessageContaining("got " + value);
            }
        }
        assertThatThrownBy(() -> bind(Map.of("aneforge.cache-ttl", "-5s")))
                .rootCause().hasMessageContaining("ANEFORGE_CACHE_TTL").hasMessageContaining("got PT-5S");
    }
}
