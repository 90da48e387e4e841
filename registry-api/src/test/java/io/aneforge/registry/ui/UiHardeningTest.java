package io.aneforge.registry.ui;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * review-d #26: every answer under /ui carries the browser hardening headers, and the UI's files use nothing the
 * content security policy forbids (MatrixUiE2eTest checks in Chromium that the page raises no violation).
 */
class UiHardeningTest extends RegistryTestBase {

    @Test
    void everyUiAnswerCarriesTheHardeningHeaders() {
        for (String path : new String[] {"/ui/", "/ui/index.html", "/ui/app.js", "/ui/app.css", "/ui", "/ui/no-such-file.js"}) {
            Response r = get(path, null);
            assertThat(r.header("Content-Security-Policy")).as(path)
                    .isEqualTo("default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
            assertThat(r.header("X-Frame-Options")).as(path).isEqualTo("DENY");
            assertThat(r.header("X-Content-Type-Options")).as(path).isEqualTo("nosniff");
            assertThat(r.header("Referrer-Policy")).as(path).isEqualTo("no-referrer");
        }
        // a revalidation (304) keeps them
        Response page = get("/ui/app.js", null);
        Response again = get("/ui/app.js", null, "If-None-Match", page.header("ETag"));
        assertThat(again.status()).isEqualTo(304);
        assertThat(again.header("Content-Security-Policy")).contains("frame-ancestors 'none'");
    }

    @Test
    void theUiUsesNoInlineScriptOrStyleThePolicyWouldBlock() throws IOException {
        String html = file("index.html");
        assertThat(html.replaceAll("<script src=\"[a-z]+\\.js\"></script>", "")).doesNotContain("<script").doesNotContain("<style")
                .doesNotContain(" style=").doesNotContain(" on");
        for (String js : new String[] {"app.js", "format.js", "route.js", "refresh.js"}) {
            // h(tag, {style: ...}) would set a style attribute, which default-src 'self' blocks
            assertThat(file(js)).as(js).doesNotContain("style:").doesNotContain("innerHTML").doesNotContain("eval(");
        }
    }

    private static String file(String name) throws IOException {
        try (InputStream in = UiHardeningTest.class.getResourceAsStream("/static/ui/" + name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
