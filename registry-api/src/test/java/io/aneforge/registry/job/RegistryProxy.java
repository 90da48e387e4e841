package io.aneforge.registry.job;

import io.aneforge.testsupport.http.ForwardingProxy;
import io.aneforge.testsupport.http.ForwardingProxy.Answer;
import io.aneforge.testsupport.http.ForwardingProxy.Request;
import java.io.IOException;
import java.util.Optional;

/**
 * A proxy between a test's agent and the registry that passes each exchange through {@link #exchange}: a registry
 * reached the way a test needs (answers lost, replaced or held, calls recorded).
 */
abstract class RegistryProxy implements AutoCloseable {
    private ForwardingProxy proxy;

    /**
     * Starts forwarding to {@code target}; a subclass calls it last in its constructor, so that no exchange sees its
     * fields unset.
     */
    protected final void start(String target) throws IOException {
        proxy = ForwardingProxy.start(target, this::exchange);
    }

    /** The answer to {@code request}, from {@code registry} or made up; empty: the connection closed unanswered. */
    abstract Optional<Answer> exchange(Request request, ForwardingProxy.Upstream registry)
            throws IOException, InterruptedException;

    String url() {
        return proxy.url();
    }

    @Override
    public void close() {
        proxy.close();
    }
}
