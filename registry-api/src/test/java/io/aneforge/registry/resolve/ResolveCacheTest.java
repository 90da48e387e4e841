package io.aneforge.registry.resolve;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import io.aneforge.registry.alias.Aliases;
import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.auth.Role;
import io.aneforge.registry.variant.Variants;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * "A client of the same instance sees an alias move at once" (README), even when a resolve runs while the
 * writer's transaction is still open: that resolve reads the old row, and the cache must not keep it.
 */
class ResolveCacheTest extends RegistryTestBase {

    private static final Caller ADMIN_CALLER = new Caller(null, "bootstrap-admin", Role.ADMIN);

    @Autowired
    PlatformTransactionManager transactions;

    @Autowired
    Aliases aliases;

    @Autowired
    Variants variants;

    private int resolvedVersion(String model) {
        Response r = get("/api/v1/models/" + model + "/resolve?chip=A17_PRO&os=18.0", reader());
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.json().path("version").asInt();
    }

    /** Runs {@code write} in a transaction and, before it commits, a resolve from another thread (real HTTP). */
    private int resolveDuring(String model, Runnable write) {
        return new TransactionTemplate(transactions).execute(status -> {
            write.run();
            return CompletableFuture.supplyAsync(() -> resolvedVersion(model)).join();
        });
    }

    @Test
    void anAliasMoveIsSeenAtOnceAfterAResolveRanDuringTheMove() {
        String m = "cache-alias";
        createModel(m);
        for (int i = 0; i < 2; i++) {
            int v = createVersion(m);
            addVariant(m, v, "A17_PRO", "18.0", "ane", "fp16");
            publishWithoutGoldenData(m, v);
        }
        assertThat(moveAlias(m, "production", 1, "first").status()).isEqualTo(200);
        assertThat(resolvedVersion(m)).isEqualTo(1);

        int during = resolveDuring(m, () -> aliases.move(m, "production", 2, "second", ADMIN_CALLER));
        assertThat(during).as("not committed yet: the old target").isEqualTo(1);
        assertThat(resolvedVersion(m)).as("after the commit").isEqualTo(2);
    }

    @Test
    void aVariantYankIsSeenAtOnceAfterAResolveRanDuringTheYank() {
        String m = "cache-yank";
        int v = inProduction(m, "first", "A17_PRO 18.0 ane fp16", "A17_PRO 18.0 ane int8");
        Response first = get("/api/v1/models/" + m + "/resolve?chip=A17_PRO&os=18.0", reader());
        assertThat(first.json().path("variant").path("precision").asString()).isEqualTo("fp16");
        long fp16 = variants.list(m, v).stream().filter(x -> x.precision().equals("fp16")).findFirst().orElseThrow().id();

        resolveDuring(m, () -> variants.yank(m, v, fp16, "bad weights"));
        Response after = get("/api/v1/models/" + m + "/resolve?chip=A17_PRO&os=18.0", reader());
        assertThat(after.json().path("variant").path("precision").asString()).as(after.text()).isEqualTo("int8");
    }
}
