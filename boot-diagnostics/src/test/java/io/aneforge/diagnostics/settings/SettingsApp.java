package io.aneforge.diagnostics.settings;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * A stand-in application for {@code EarlySettingsCheck}: one settings record, and a bean standing for Flyway
 * (anything that touches the database while the context is refreshed) that records whether it was created.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(SettingsApp.Settings.class)
public class SettingsApp {

    /** Set when the context got as far as creating beans. */
    public static final AtomicBoolean MIGRATED = new AtomicBoolean();

    @Bean
    Object migration() {
        MIGRATED.set(true);
        return new Object();
    }

    @ConfigurationProperties("demo")
    public record Settings(Duration cacheTtl, Integer maxAttempts) {
    }
}
