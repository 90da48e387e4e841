package io.aneforge.hub;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubConfigTest {
    @TempDir
    Path home;

    @Test
    void readsTheSameEnvironmentAsThePythonTools() throws Exception {
        Files.writeString(home.resolve("token"), "hf_from_file\n");
        HubConfig fromFile = HubConfig.fromEnvironment(Map.of("HF_HOME", home.toString(),
                "HF_ENDPOINT", "http://mirror.local:8080/", "HF_HUB_OFFLINE", "1"));
        assertThat(fromFile.token()).isEqualTo("hf_from_file");
        assertThat(fromFile.cacheDir()).isEqualTo(home.resolve("hub"));
        assertThat(fromFile.endpoint().toString()).isEqualTo("http://mirror.local:8080");
        assertThat(fromFile.offline()).isTrue();

        HubConfig fromEnv = HubConfig.fromEnvironment(Map.of("HF_HOME", home.toString(), "HF_TOKEN", "hf_env",
                "HF_HUB_CACHE", home.resolve("elsewhere").toString()));
        assertThat(fromEnv.token()).isEqualTo("hf_env");
        assertThat(fromEnv.cacheDir()).isEqualTo(home.resolve("elsewhere"));
        assertThat(fromEnv.offline()).isFalse();
        assertThat(fromEnv.endpoint().toString()).isEqualTo(HubConfig.DEFAULT_ENDPOINT);
    }
}
