package io.aneforge.hub;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Hub client settings, normally read from the same environment variables as the Python tools.
 *
 * @param token bearer token or null; sent only to the endpoint's host
 * @param offline {@code HF_HUB_OFFLINE=1}: never open a connection, serve from the cache only
 * @param maxRetries extra attempts after a network failure or 5xx/429 (resuming downloads)
 */
public record HubConfig(URI endpoint, Path cacheDir, String token, boolean offline, Duration connectTimeout,
                        Duration requestTimeout, int maxRetries, Duration initialBackoff) {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

    public HubConfig {
        if (endpoint == null || cacheDir == null || connectTimeout == null || requestTimeout == null
                || initialBackoff == null) {
            throw new IllegalArgumentException("endpoint, cacheDir and timeouts are required");
        }
        if (!"http".equals(endpoint.getScheme()) && !"https".equals(endpoint.getScheme())) {
            throw new IllegalArgumentException("HF_ENDPOINT must be an http(s) URL: " + endpoint);
        }
        if (maxRetries < 0 || maxRetries > 20) {
            throw new IllegalArgumentException("maxRetries must be in 0..20: " + maxRetries);
        }
        String s = endpoint.toString();
        if (s.endsWith("/")) {
            endpoint = URI.create(s.substring(0, s.length() - 1));
        }
    }

    public Optional<String> tokenValue() {
        return Optional.ofNullable(token);
    }

    /** Reads the process environment. */
    public static HubConfig fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /**
     * {@code HF_ENDPOINT}, {@code HF_HOME} (default ~/.cache/huggingface), {@code HF_HUB_CACHE}
     * (default $HF_HOME/hub), {@code HF_TOKEN} else the token file ({@code HF_TOKEN_PATH}, default
     * $HF_HOME/token), {@code HF_HUB_OFFLINE}.
     */
    public static HubConfig fromEnvironment(Map<String, String> env) {
        Path home = env.containsKey("HF_HOME") ? Path.of(env.get("HF_HOME"))
                : Path.of(System.getProperty("user.home"), ".cache", "huggingface");
        Path cache = env.containsKey("HF_HUB_CACHE") ? Path.of(env.get("HF_HUB_CACHE")) : home.resolve("hub");
        String token = blankToNull(env.get("HF_TOKEN"));
        if (token == null) {
            Path tokenFile = env.containsKey("HF_TOKEN_PATH") ? Path.of(env.get("HF_TOKEN_PATH")) : home.resolve("token");
            try {
                if (Files.isRegularFile(tokenFile)) {
                    token = blankToNull(Files.readString(tokenFile));
                }
            } catch (IOException e) {
                token = null; // An unreadable token file means anonymous access, as in the Python client.
            }
        }
        String offline = env.getOrDefault("HF_HUB_OFFLINE", "");
        boolean isOffline = offline.equals("1") || offline.equalsIgnoreCase("true") || offline.equalsIgnoreCase("yes")
                || offline.equalsIgnoreCase("on");
        return new HubConfig(URI.create(env.getOrDefault("HF_ENDPOINT", DEFAULT_ENDPOINT)), cache, token, isOffline,
                Duration.ofSeconds(10), Duration.ofSeconds(30), 5, Duration.ofMillis(500));
    }

    public HubConfig withCacheDir(Path dir) {
        return new HubConfig(endpoint, dir, token, offline, connectTimeout, requestTimeout, maxRetries, initialBackoff);
    }

    public HubConfig withOffline(boolean value) {
        return new HubConfig(endpoint, cacheDir, token, value, connectTimeout, requestTimeout, maxRetries,
                initialBackoff);
    }

    public HubConfig withToken(String value) {
        return new HubConfig(endpoint, cacheDir, value, offline, connectTimeout, requestTimeout, maxRetries,
                initialBackoff);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
