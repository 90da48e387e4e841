package io.aneforge.registry.requestid;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** review-d #2: every answer carries an X-Request-Id, and a problem document the same id as {@code requestId}. */
class RequestIdTest extends RegistryTestBase {

    @Test
    void aRequestWithoutAnIdGetsANewOneInTheHeaderAndTheProblem() {
        Response r = get("/api/v1/models", null); // 401 problem
        assertThat(r.status()).isEqualTo(401);
        String id = r.header("X-Request-Id");
        assertThat(UUID.fromString(id)).isNotNull();
        assertThat(r.json().path("requestId").asString()).isEqualTo(id);
        assertThat(get("/api/v1/models", null).header("X-Request-Id")).as("one id per request").isNotEqualTo(id);
    }

    @Test
    void theCallersIdIsKeptWhenItIsAPlainToken() {
        Response r = get("/api/v1/models/no-such-model-rid", reader(), "X-Request-Id", "app-7:build.42_a");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.header("X-Request-Id")).isEqualTo("app-7:build.42_a");
        assertThat(r.json().path("requestId").asString()).isEqualTo("app-7:build.42_a");
        Response ok = get("/api/v1/models", reader(), "X-Request-Id", "ok-1");
        assertThat(ok.status()).isEqualTo(200);
        assertThat(ok.header("X-Request-Id")).isEqualTo("ok-1");
    }

    @Test
    void anIdThatCouldInjectIntoHeadersOrLogsIsReplaced() {
        for (String bad : new String[] {"two words", "quote\"d", "x".repeat(129), "a{b}"}) {
            Response r = get("/api/v1/models", null, "X-Request-Id", bad);
            assertThat(r.header("X-Request-Id")).as(bad).isNotEqualTo(bad);
            assertThat(UUID.fromString(r.header("X-Request-Id"))).isNotNull();
            assertThat(r.json().path("requestId").asString()).isEqualTo(r.header("X-Request-Id"));
        }
    }

    @Test
    void theResolveFastPathsAnswersCarryTheIdToo() {
        inProduction("rid-resolve", "first", "A17_PRO 17.0 ane fp16");
        Response r = get("/api/v1/models/rid-resolve/resolve?chip=A17_PRO&os=18.0", reader(), "X-Request-Id", "fast-1");
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.header("X-Request-Id")).isEqualTo("fast-1");
    }
}
