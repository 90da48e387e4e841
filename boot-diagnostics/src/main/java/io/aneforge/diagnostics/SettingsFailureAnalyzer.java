package io.aneforge.diagnostics;

import java.net.URI;
import java.net.URL;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;
import org.springframework.util.unit.DataSize;

/**
 * Turns a setting the application cannot bind (e.g. {@code ANEFORGE_CACHE_TTL=five}) into a few lines naming the
 * property, the environment variable that sets it, the bad value and the form it accepts. Spring Boot's own
 * {@code BindFailureAnalyzer} names the origin of the value, which for our {@code ${ANEFORGE_X:default}}
 * placeholders is a line of application.yml rather than the variable the user actually set, and says only
 * "Update your application's configuration".
 *
 * <p>Ordered ahead of Spring Boot's analyzers so this report wins. Walks the whole cause chain, so a
 * {@link BindException} wrapped in bean creation failures is found too.
 */
public final class SettingsFailureAnalyzer implements FailureAnalyzer, Ordered {

    private final Environment environment;

    public SettingsFailureAnalyzer(Environment environment) {
        this.environment = environment;
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }

    @Override
    public FailureAnalysis analyze(Throwable failure) {
        BindException bind = find(failure);
        if (bind == null) {
            return null;
        }
        ConfigurationProperty property = bind.getProperty();
        String name = property != null ? property.getName().toString() : bind.getName().toString();
        Class<?> type = bind.getTarget().getType().resolve(Object.class);
        String application = environment == null ? "the application"
                : environment.getProperty("spring.application.name", "the application");
        if (property == null) {
            // A check in the settings' own constructor failed (e.g. a negative duration): its message names
            // the property and the variable already.
            return new FailureAnalysis(application + " cannot start: a setting under " + name + " is not valid: "
                    + reason(bind) + ".", "Fix the setting the message names, or unset it to use the default. "
                    + "application.yml documents every setting.", bind);
        }
        String variable = environmentVariable(name);
        String description = application + " cannot start: the setting " + name + " (environment variable "
                + variable + ") = '" + property.getValue() + "' is not valid: " + reason(bind) + ".";
        String action = "Set " + variable + " to " + expectedForm(type)
                + ", or unset it to use the default. application.yml documents every setting.";
        return new FailureAnalysis(description, action, bind);
    }

    private static BindException find(Throwable failure) {
        for (Throwable t = failure; t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof BindException bind) {
                return bind;
            }
        }
        return null;
    }

    /**
     * The upper-case form Spring's relaxed binding maps onto the property: {@code aneforge.s3.access-key} is
     * {@code ANEFORGE_S3_ACCESS_KEY}, {@code a.list[0]} is {@code A_LIST_0_}.
     */
    static String environmentVariable(String property) {
        return property.replace('.', '_').replace('-', '_').replace('[', '_').replace("]", "_")
                .replace("__", "_").toUpperCase(Locale.ROOT);
    }

    /** The innermost message: the converter's or the constructor's own words, not Spring's restatement. */
    private static String reason(BindException bind) {
        Throwable deepest = bind;
        for (Throwable t = bind.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            if (t.getMessage() != null) {
                deepest = t;
            }
        }
        return deepest == bind ? "it cannot be read as " + describe(bind.getTarget().getType().resolve(Object.class))
                : String.valueOf(deepest.getMessage()).strip();
    }

    static String expectedForm(Class<?> type) {
        if (type == Duration.class) {
            return "a duration: a whole number with a unit (e.g. 500ms, 5s, 2m, 1h, 1d) or ISO-8601 (PT5S)";
        }
        if (type == DataSize.class) {
            return "a size: a whole number with an optional unit (e.g. 512MB, 2GB; bytes without a unit)";
        }
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class
                || type == Short.class || type == short.class) {
            return "a whole number (e.g. 3)";
        }
        if (type == Double.class || type == double.class || type == Float.class || type == float.class) {
            return "a number (e.g. 0.5)";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type.isEnum()) {
            return "one of " + Arrays.stream(type.getEnumConstants()).map(String::valueOf)
                    .collect(Collectors.joining(", "));
        }
        if (type == URI.class || type == URL.class) {
            return "a URL (e.g. http://host:9000)";
        }
        if (type == Path.class) {
            return "a file system path";
        }
        return "a valid " + describe(type);
    }

    private static String describe(Class<?> type) {
        return type.getSimpleName();
    }
}
