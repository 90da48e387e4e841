package io.aneforge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code aneforge tokens list|create|update|revoke} against the real registry over HTTP. */
class TokensCommandTest {

    static Map<String, String> env;

    @BeforeAll
    static void registry() {
        env = TestRegistry.env();
    }

    static Cli run(String... args) {
        return Cli.run(env, args);
    }

    static Map<String, String> as(String token) {
        Map<String, String> e = new HashMap<>(env);
        e.put("ANEFORGE_TOKEN", token);
        return e;
    }

    @Test
    void mintListLimitAndRevoke() throws Exception {
        Cli reader = run("tokens", "create", "--name", "tokens-test-reader", "--role", "reader");
        assertThat(reader.code()).as(reader.toString()).isZero();
        String secret = reader.out().strip();
        assertThat(reader.out()).as("the token alone on stdout").matches("af_[A-Za-z0-9_-]{43}\n");
        assertThat(reader.err()).matches("minted token #\\d+ tokens-test-reader \\(reader, every model\\); it is shown only "
                + "this once:\n");
        long readerId = Long.parseLong(reader.err().substring("minted token #".length(), reader.err().indexOf(' ', 14)));

        // the new token authenticates: a reader may not manage tokens, and the error says what would
        Cli notAdmin = Cli.run(as(secret), "tokens", "list");
        assertThat(notAdmin.code()).as(notAdmin.toString()).isEqualTo(1);
        assertThat(notAdmin.err()).isEqualTo("aneforge tokens list: registry answered HTTP 403 forbidden-role to GET "
                + "/api/v1/tokens: role 'reader' may not call GET /api/v1/tokens; allowed: admin (the tokens commands need an "
                + "admin token: set ANEFORGE_TOKEN to one)\n");

        Cli publisher = run("tokens", "create", "--name", "tokens-test-ci", "--role", "publisher", "--models",
                "team-a-*, bert-base", "--json");
        assertThat(publisher.code()).as(publisher.toString()).isZero();
        JsonNode minted = JsonMapper.shared().readTree(publisher.out());
        long ciId = minted.get("id").asLong();
        assertThat(minted.get("token").asString()).startsWith("af_");
        assertThat(minted.get("models").toString()).isEqualTo("[\"team-a-*\",\"bert-base\"]");

        Cli list = run("tokens", "list");
        assertThat(list.code()).as(list.toString()).isZero();
        assertThat(list.out()).contains("  #" + readerId + " tokens-test-reader (reader, every model)  minted by "
                        + "bootstrap-admin ")
                .contains("  #" + ciId + " tokens-test-ci (publisher, models team-a-*,bert-base)  minted by bootstrap-admin ")
                .contains(", last used never").doesNotContain(secret);
        JsonNode all = JsonMapper.shared().readTree(run("tokens", "list", "--json").out());
        assertThat(all.isArray()).isTrue();
        assertThat(all.toString()).contains("\"name\":\"tokens-test-ci\"").doesNotContain("af_");

        Cli limited = run("tokens", "update", "--id", String.valueOf(ciId), "--models", "team-b-*");
        assertThat(limited.code()).as(limited.toString()).isZero();
        assertThat(limited.out()).isEqualTo("token #" + ciId + " tokens-test-ci (publisher, models team-b-*)\n");
        Cli lifted = run("tokens", "update", "--id", String.valueOf(ciId), "--all-models", "--json");
        assertThat(lifted.code()).as(lifted.toString()).isZero();
        assertThat(JsonMapper.shared().readTree(lifted.out()).get("models").isNull()).isTrue();

        Cli revoked = run("tokens", "revoke", "--id", String.valueOf(readerId));
        assertThat(revoked.code()).as(revoked.toString()).isZero();
        assertThat(revoked.out()).isEqualTo("revoked token #" + readerId + " tokens-test-reader (reader, every model)\n");
        Cli refused = Cli.run(as(secret), "tokens", "list");
        assertThat(refused.err()).startsWith("aneforge tokens list: registry answered HTTP 401 invalid-token");
        Cli again = run("tokens", "revoke", "--id", String.valueOf(readerId));
        assertThat(again.code()).as(again.toString()).isZero();
        assertThat(again.out()).startsWith("token #" + readerId + " tokens-test-reader (reader, every model) was already "
                + "revoked at ");
        assertThat(run("tokens", "list").out()).contains("#" + readerId + " tokens-test-reader").contains(", REVOKED ");

        Cli changeRevoked = run("tokens", "update", "--id", String.valueOf(readerId), "--all-models");
        assertThat(changeRevoked.code()).as(changeRevoked.toString()).isEqualTo(1);
        assertThat(changeRevoked.err()).startsWith("aneforge tokens update: registry answered HTTP 409 token-revoked to "
                + "PATCH /api/v1/tokens/" + readerId + ": token " + readerId + " ('tokens-test-reader') was revoked at ");
    }

    @Test
    void problemAnswersAndBadOptionsNameTheFix() {
        Cli role = run("tokens", "create", "--name", "tokens-test-bad", "--role", "owner");
        assertThat(role.code()).as(role.toString()).isEqualTo(1);
        assertThat(role.err()).isEqualTo("aneforge tokens create: registry answered HTTP 400 unknown-role to POST "
                + "/api/v1/tokens: role 'owner' is not one of reader, publisher, qa, worker, agent, admin\n");
        assertThat(role.out()).isEmpty();

        Cli scoped = run("tokens", "create", "--name", "tokens-test-bad", "--role", "reader", "--models", "x");
        assertThat(scoped.code()).as(scoped.toString()).isEqualTo(1);
        assertThat(scoped.err()).startsWith("aneforge tokens create: registry answered HTTP 400 model-scope-not-supported ");

        Cli unknown = run("tokens", "revoke", "--id", "987654321");
        assertThat(unknown.code()).as(unknown.toString()).isEqualTo(1);
        assertThat(unknown.err()).isEqualTo("aneforge tokens revoke: registry answered HTTP 404 token-not-found to DELETE "
                + "/api/v1/tokens/987654321: no token with id 987654321; list tokens with GET /api/v1/tokens (aneforge tokens list shows the ids)\n");

        Cli neither = run("tokens", "update", "--id", "1");
        assertThat(neither.code()).isEqualTo(2);
        assertThat(neither.err()).isEqualTo("aneforge tokens update: pass either --models M[,M...] (the models the token "
                + "may write to) or --all-models (every model)\n");
        Cli both = run("tokens", "update", "--id", "1", "--models", "a", "--all-models");
        assertThat(both.code()).isEqualTo(2);
        assertThat(both.err()).endsWith("or --all-models (every model), not both\n");
        Cli empty = run("tokens", "update", "--id", "1", "--models", "a,,b");
        assertThat(empty.code()).isEqualTo(2);
        assertThat(empty.err()).startsWith("aneforge tokens update: --models 'a,,b' has an empty entry: ");
        Cli noCommand = run("tokens");
        assertThat(noCommand.code()).isEqualTo(2);
        assertThat(noCommand.err()).startsWith("aneforge tokens: missing command: use one of list, create, update, revoke");
        Cli notANumber = run("tokens", "revoke", "--id", "x");
        assertThat(notANumber.code()).isEqualTo(2);
    }
}
