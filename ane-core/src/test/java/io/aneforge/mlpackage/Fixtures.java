package io.aneforge.mlpackage;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/** Locates the coremltools golden packages copied into test resources. */
final class Fixtures {
    private Fixtures() {
    }

    static Path pkg(String name) {
        URL url = Fixtures.class.getResource("/coreml-fixtures/" + name + ".mlpackage/Manifest.json");
        if (url == null) {
            throw new IllegalStateException("fixture " + name + " missing from test resources");
        }
        try {
            return Path.of(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
