package io.aneforge.registry.ui;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/**
 * The UI's static files over real HTTP: revalidated on every load by a content-hash ETag, never by date,
 * because every build stamps the jar's entries with the same {@code project.build.outputTimestamp}.
 */
class UiCachingTest extends RegistryTestBase {

    private static byte[] classpathFile(String name) throws IOException {
        try (InputStream in = UiCachingTest.class.getResourceAsStream("/static/ui/" + name)) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }

    @Test
    void everyFileHasAContentHashEtagNoCacheAndNoLastModified() throws IOException {
        for (String name : new String[] {"index.html", "app.js", "format.js", "route.js", "app.css"}) {
            Response r = get("/ui/" + name, null);
            assertThat(r.status()).as(name).isEqualTo(200);
            assertThat(r.header("ETag")).as(name).isEqualTo("\"" + sha256(classpathFile(name)) + "\"");
            assertThat(r.header("Cache-Control")).as(name).isEqualTo("no-cache");
            assertThat(r.header("Last-Modified")).as(name).isNull();
        }
        // different content, different tag: an upgraded file is a changed file
        assertThat(get("/ui/app.js", null).header("ETag")).isNotEqualTo(get("/ui/app.css", null).header("ETag"));
    }

    @Test
    void anUnchangedFileIsA304AndADateNeverDecides() {
        Response first = get("/ui/app.js", null);
        String etag = first.header("ETag");
        Response again = get("/ui/app.js", null, "If-None-Match", etag);
        assertThat(again.status()).isEqualTo(304);
        assertThat(again.body()).isEmpty();

        // a browser holding another build's file gets the new one
        Response other = get("/ui/app.js", null, "If-None-Match", "\"0123abcd\"");
        assertThat(other.status()).isEqualTo(200);
        assertThat(other.body()).isEqualTo(first.body());
        // what older builds sent as Last-Modified (the output timestamp), and any later date, is not a validator
        assertThat(get("/ui/app.js", null, "If-Modified-Since", "Thu, 01 Jan 2026 00:00:00 GMT").status()).isEqualTo(200);
        assertThat(get("/ui/app.js", null, "If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT").status()).isEqualTo(200);
    }

    @Test
    void thePageAtSlashUiIsRevalidatedToo() throws IOException {
        Response page = get("/ui/", null);
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.text()).contains("<script src=\"app.js\"></script>");
        assertThat(page.header("ETag")).isEqualTo("\"" + sha256(classpathFile("index.html")) + "\"");
        assertThat(page.header("Cache-Control")).isEqualTo("no-cache");
        assertThat(get("/ui/", null, "If-None-Match", page.header("ETag")).status()).isEqualTo(304);
        assertThat(get("/ui/nope.js", null).status()).isEqualTo(404);
    }
}
