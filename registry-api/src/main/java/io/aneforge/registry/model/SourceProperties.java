package io.aneforge.registry.model;

import io.aneforge.source.LocalRoots;
import java.nio.file.Path;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Configuration;

/**
 * {@code aneforge.sources.*} (application.yml, environment {@code ANEFORGE_SOURCES_*}), checked when the registry
 * starts so that a bad value stops it with a message naming the variable.
 *
 * @param localRoots the directories under which a {@code local} source's path must lie (absolute, no {@code ..});
 *     empty (the default) refuses every {@code local} source: a publisher could otherwise point the workers at any
 *     directory they can read ({@code /etc}, {@code /proc/self/root}) and learn from the failure texts what is there.
 *     The registry checks the path lexically (it does not see the workers' file systems); the workers read the same
 *     setting and check the real paths (symbolic links) of the source and its files. {@code ./aneforge up} sets
 *     this to its own demo directory.
 */
@ConfigurationProperties("aneforge.sources")
public record SourceProperties(List<String> localRoots) {

    static final String SETTING = "aneforge.sources.local-roots (ANEFORGE_SOURCES_LOCAL_ROOTS)";

    public SourceProperties {
        localRoots = LocalRoots.parse(localRoots, SETTING);
    }

    /** The normalized root {@code path} lies under, or null. */
    String rootOf(Path path) {
        for (String root : localRoots) {
            if (path.startsWith(Path.of(root))) return root;
        }
        return null;
    }

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(SourceProperties.class)
    static class Enable {}
}
