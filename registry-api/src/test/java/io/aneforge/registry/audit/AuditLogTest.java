package io.aneforge.registry.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * review-d #25: token mints and revocations, yanks, alias moves, gate changes (and every other audited write) each
 * leave one audit line, its target and detail made from the audit event.
 */
@ExtendWith(OutputCaptureExtension.class)
class AuditLogTest extends RegistryTestBase {

    /** The audit lines written since {@code from} characters of the captured output. */
    private static String auditSince(CapturedOutput out, int from) {
        return String.join("\n", out.getAll().substring(from).lines().filter(l -> l.contains("aneforge.audit")).toList());
    }

    @Test
    void eachSecurityRelevantWriteLogsWhoWhatAndWhich(CapturedOutput out) {
        String publisher = publisher();
        int from = out.getAll().length();
        Response minted = send("POST", "/api/v1/tokens", ADMIN, Map.of("name", "audited-ci", "role", "reader"),
                "X-Request-Id", "audit-mint-1");
        assertThat(minted.status()).as(minted.text()).isEqualTo(201);
        long tokenId = minted.json().path("id").asLong();
        assertThat(send("DELETE", "/api/v1/tokens/" + tokenId, ADMIN, null).status()).isEqualTo(204);

        createModel("audited");
        int v = createVersion("audited");
        addVariant("audited", v, "A17_PRO", "18.0", "ane", "fp16");
        addVariant("audited", v, "A17_PRO", "18.0", "ane", "int8");
        publishWithoutGoldenData("audited", v);
        assertThat(send("PUT", "/api/v1/models/audited/gates", publisher, "{\"maxArtifactBytes\":90000000}").status())
                .isEqualTo(200);
        // clearing gates loosens them: an admin's call (a publisher's is 403 gates-loosening-needs-admin)
        assertThat(send("PUT", "/api/v1/models/audited/gates", ADMIN, "{}").status()).isEqualTo(200);
        assertThat(moveAlias("audited", "production", v, "first release").status()).isEqualTo(200);
        long variantId = get("/api/v1/models/audited/versions/" + v + "/variants", publisher).json().get(1).path("id").asLong();
        assertThat(send("POST", "/api/v1/models/audited/versions/" + v + "/variants/" + variantId + "/yank", publisher,
                Map.of("reason", "bad int8\nforged line")).status()).isEqualTo(200);
        int v2 = createVersion("audited");
        addVariant("audited", v2, "A17_PRO", "18.0", "ane", "fp16");
        publishWithoutGoldenData("audited", v2);
        assertThat(send("POST", "/api/v1/models/audited/versions/" + v2 + "/yank", publisher, Map.of("reason", "superseded"))
                .status()).isEqualTo(200);

        String audit = auditSince(out, from);
        assertThat(audit).contains("audit action=token.mint actor=bootstrap-admin actorTokenId=- actorRole=admin target=\"token "
                + tokenId + "\" detail=\"name: audited-ci, role: reader\" requestId=audit-mint-1");
        assertThat(audit).contains("action=token.revoke actor=bootstrap-admin").contains("target=\"token " + tokenId + "\"");
        assertThat(audit).contains("action=gates.put actor=test-publisher").contains("actorRole=publisher")
                .contains("target=\"model audited\"").contains("\\\"maxArtifactBytes\\\":90000000");
        assertThat(audit).contains("action=model.create actor=test-publisher")
                .contains("target=\"model audited\" detail=\"task: feature-extraction, owner: test-publisher\"");
        assertThat(audit).contains("action=version.create actor=test-publisher")
                .contains("target=\"model audited version " + v + "\" detail=\"source: upload\"");
        assertThat(audit).contains("action=version.publish actor=test-publisher").contains("target=\"model audited version "
                + v + "\" detail=\"withoutGoldenData: true, reason: test of publishing, not of accuracy\"");
        assertThat(audit).contains("action=alias.move actor=test-publisher")
                .contains("target=\"model audited alias production\" detail=\"version: " + v + ", override: false, reason: first release\"");
        // a reason cannot start a line of its own: the line break stays inside the quoted value
        assertThat(audit).contains("action=variant.yank actor=test-publisher")
                .contains("variant " + variantId + "\" detail=\"reason: bad int8\\nforged line\"");
        assertThat(audit).doesNotContain("\nforged line");
        assertThat(audit).contains("action=version.yank actor=test-publisher")
                .contains("target=\"model audited version " + v2 + "\" detail=\"reason: superseded\"");
    }

    @Test
    void valuesAreBareWhenPlainAndQuotedAndEscapedOtherwise() {
        assertThat(Audit.value("ci-publisher")).isEqualTo("ci-publisher");
        assertThat(Audit.value(null)).isEqualTo("-");
        assertThat(Audit.value("")).isEqualTo("\"\"");
        assertThat(Audit.value("a b")).isEqualTo("\"a b\"");
        assertThat(Audit.value("x\" key=forged")).isEqualTo("\"x\\\" key=forged\"");
        assertThat(Audit.value("line\r\nnext\\")).isEqualTo("\"line\\r\\nnext\\\\\"");
    }
}
