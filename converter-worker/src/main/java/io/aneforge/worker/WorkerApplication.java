package io.aneforge.worker;

import io.aneforge.hub.HttpHubClient;
import io.aneforge.hub.HubClient;
import io.aneforge.hub.HubConfig;
import io.aneforge.worker.source.LocalSourceRoots;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/** The converter worker: leases conversions from the registry and runs one Spring Batch job per conversion. */
@SpringBootApplication
@EnableConfigurationProperties({WorkerProperties.class, LocalSourceRoots.class})
public class WorkerApplication {

    private static final List<String> HUB_VARIABLES =
            List.of("HF_ENDPOINT", "HF_HOME", "HF_HUB_CACHE", "HF_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE");

    public static void main(String[] args) {
        SpringApplication.run(WorkerApplication.class, args);
    }

    /** The Hub client, configured like the Python tools from HF_* variables (or the same-named Spring properties). */
    @Bean
    HubClient hubClient(Environment env) {
        Map<String, String> vars = new HashMap<>(System.getenv());
        for (String k : HUB_VARIABLES) {
            String v = env.getProperty(k);
            if (v != null) vars.put(k, v);
        }
        return new HttpHubClient(HubConfig.fromEnvironment(vars));
    }
}
