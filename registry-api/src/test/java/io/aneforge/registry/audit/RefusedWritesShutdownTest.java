package io.aneforge.registry.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.auth.Role;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;

/**
 * Stopping with refusals still counted in memory and a database that accepts connections but never answers (a real
 * TCP listener that reads nothing): the last flush is given up after {@link RefusedWrites#SHUTDOWN_FLUSH_WAIT}, not
 * the pool's 30-second connection timeout, and the loss is logged.
 */
@ExtendWith(OutputCaptureExtension.class)
class RefusedWritesShutdownTest {

    @Test
    void aDatabaseThatDoesNotAnswerDoesNotHoldTheShutdown(CapturedOutput out) throws Exception {
        List<Socket> accepted = new CopyOnWriteArrayList<>();
        try (ServerSocket silent = new ServerSocket(0)) {
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) accepted.add(silent.accept());
                } catch (Exception closed) {
                    // the listener closed at the end of the test
                }
            }, "silent-database");
            acceptor.setDaemon(true);
            acceptor.start();
            HikariDataSource db = new HikariDataSource();
            db.setJdbcUrl("jdbc:postgresql://127.0.0.1:" + silent.getLocalPort() + "/none");
            db.setUsername("nobody");
            db.setInitializationFailTimeout(-1); // the pool starts without a connection
            db.setConnectionTimeout(TimeUnit.SECONDS.toMillis(30));
            try (db) {
                RefusedWrites refused = new RefusedWrites(JdbcClient.create(db), new DataSourceTransactionManager(db));
                refused.record(new RefusedWrites.Refusal(new Caller(7L, "ci", Role.READER), "POST", "/api/v1/models",
                        "/api/v1/models", null, 403, "forbidden", "readers cannot write", "req-1"));
                long start = System.nanoTime();
                refused.flushOnShutdown();
                long waited = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
                assertThat(waited).as("seconds the shutdown waited").isLessThan(
                        RefusedWrites.SHUTDOWN_FLUSH_WAIT.toSeconds() + 10);
                assertThat(out.getAll()).contains("the last flush did not finish within 5s of stopping; 1 row(s)");
                // the "database" goes away, so the pool's own attempt ends and closing it does not wait 30 s
                silent.close();
                for (Socket s : accepted) s.close();
            }
        } finally {
            for (Socket s : accepted) s.close();
        }
    }
}
