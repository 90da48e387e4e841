package io.aneforge.registry.alias;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import javax.sql.DataSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * What the alias tests that reach below the API share: versions an alias can move to, an alias's history as the API
 * answers it, and the database itself, for the model row's id ({@link ModelRowLock} locks it; rows written as another
 * release writes them refer to it).
 */
abstract class AliasTestBase extends RegistryTestBase {

    @Autowired
    JdbcClient jdbc;

    @Autowired
    DataSource dataSource;

    /**
     * A new published version of {@code model} with one A17_PRO variant and golden data: an alias can move to it, and
     * it passes at once gates that check only the size (known without any job).
     */
    int publishedVersion(String model) {
        int v = createVersion(model);
        addVariant(model, v, "A17_PRO", "18.0", "ane", "fp16");
        setGolden(model, v);
        publish(model, v);
        return v;
    }

    /** {@code GET .../aliases/{alias}/history}, which must answer 200: the entries, oldest first. */
    JsonNode history(String model, String alias) {
        Response r = get("/api/v1/models/" + model + "/aliases/" + alias + "/history", reader());
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.json();
    }

    long modelId(String model) {
        return jdbc.sql("SELECT id FROM model WHERE name = ?").param(model).query(Long.class).single();
    }
}
