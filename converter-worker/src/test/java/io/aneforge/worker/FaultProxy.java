package io.aneforge.worker;

import io.aneforge.testsupport.http.ForwardingProxy;
import io.aneforge.testsupport.http.ForwardingProxy.Answer;
import io.aneforge.testsupport.http.ForwardingProxy.Request;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * A reverse proxy in front of the real registry that injects the failures a worker meets between itself
 * and the registry: a gateway's 503, a connection closed before the registry saw the request, an answer lost
 * after the registry applied the request, a request that is never answered (a half-open connection).
 * Every request is logged with what happened to it. The forwarding itself is test-support's {@link ForwardingProxy};
 * this class decides, per request, what goes wrong.
 */
final class FaultProxy implements AutoCloseable {

    enum Fault {
        /** Answered 503 by the "gateway"; the registry never sees the request. */
        UNAVAILABLE,
        /**
         * Answered 422 with a problem JSON, as the registry refuses a request for good (a refusal a test cannot provoke
         * from a tiny model); the registry never sees the request.
         */
        REFUSED,
        /** The connection is closed before the request reaches the registry. */
        DROP,
        /** The registry applies the request; its answer is lost (the connection is closed instead). */
        LOST_ANSWER,
        /** Never answered while the proxy runs. */
        HANG,
        /**
         * The registry applies the request; its 200 answer is replaced by a proxy's HTML page (also 200). Counted only
         * for requests the registry answered 200 (a 204 "nothing to lease" passes through unchanged).
         */
        HTML_PAGE,
        /**
         * A lease call: the registry grants it (200); its answer is lost (the connection is closed instead). Counted
         * only for calls the registry answered 200 (a 204 "nothing to lease" passes through unchanged).
         */
        LOST_GRANT,
        /**
         * A lease call held back until the worker gave up on it and its first release by that call's request id
         * ({@code /lease-requests/<request>/release}) has been answered; only then is it sent to the registry, whose
         * answer is lost (the worker is long gone). Lease calls that come meanwhile wait for it.
         */
        LATE_GRANT
    }

    /**
     * A request: its method, path, body and the fault injected (null: forwarded), the status answered (0: none) and
     * the registry's answer (empty when it did not see the request).
     */
    record Seen(String method, String path, String body, Fault fault, int status, String answer) {}

    private record Rule(String method, Pattern path, String bodyContains, Fault fault, AtomicInteger left) {}

    private final ForwardingProxy proxy;
    private final List<Rule> rules = new CopyOnWriteArrayList<>();
    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final CountDownLatch closed = new CountDownLatch(1);
    /** The request id of the lease call held by {@link Fault#LATE_GRANT}, while it is held. */
    private volatile String heldRequest;
    private volatile CountDownLatch heldReleaseAnswered = new CountDownLatch(0);
    private volatile CountDownLatch heldDone = new CountDownLatch(0);
    private static final Pattern REQUEST = Pattern.compile("\"request\"\\s*:\\s*\"([0-9a-f-]{36})\"");

    private FaultProxy(String target) throws IOException {
        proxy = ForwardingProxy.start(target, this::exchange);
    }

    static FaultProxy start(String target) throws IOException {
        return new FaultProxy(target);
    }

    String url() {
        return proxy.url();
    }

    /** The next {@code times} requests with this method and path (a regex), whose body contains {@code bodyContains} (or any). */
    void inject(String method, String pathRegex, String bodyContains, Fault fault, int times) {
        rules.add(new Rule(method, Pattern.compile(pathRegex), bodyContains, fault, new AtomicInteger(times)));
    }

    List<Seen> seen(String method, String pathRegex) {
        Pattern p = Pattern.compile(pathRegex);
        List<Seen> out = new ArrayList<>();
        for (Seen s : seen) if (s.method().equals(method) && p.matcher(s.path()).matches()) out.add(s);
        return out;
    }

    /** How many injected faults have not happened yet. */
    int pending() {
        return rules.stream().mapToInt(r -> Math.max(0, r.left().get())).sum();
    }

    private Optional<Answer> exchange(Request request, ForwardingProxy.Upstream registry)
            throws IOException, InterruptedException {
        String method = request.method();
        String path = request.path();
        String text = request.text();
        Fault fault = null;
        Rule matched = null;
        for (Rule r : rules) {
            if (r.method().equals(method) && r.path().matcher(path).matches()
                    && (r.bodyContains() == null || text.contains(r.bodyContains())) && r.left().getAndDecrement() > 0) {
                fault = r.fault();
                matched = r;
                break;
            }
        }
        if (fault == Fault.UNAVAILABLE) {
            seen.add(new Seen(method, path, text, fault, 503, ""));
            return Optional.of(Answer.html(503, "<html>503 Service Unavailable</html>"));
        }
        if (fault == Fault.REFUSED) {
            seen.add(new Seen(method, path, text, fault, 422, ""));
            return Optional.of(new Answer(422, java.util.Map.of("Content-Type", List.of("application/problem+json")),
                    ("{\"type\":\"about:blank\",\"title\":\"Refused\",\"status\":422,\"detail\":\"refused by the"
                            + " test's proxy\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        }
        if (fault == Fault.DROP) {
            seen.add(new Seen(method, path, text, fault, 0, ""));
            return Optional.empty(); // no answer: the connection is closed
        }
        if (fault == Fault.HANG) {
            seen.add(new Seen(method, path, text, fault, 0, ""));
            closed.await();
            return Optional.empty();
        }
        if (fault == Fault.LATE_GRANT) {
            java.util.regex.Matcher m = REQUEST.matcher(text);
            heldRequest = m.find() ? m.group(1) : null;
            heldReleaseAnswered = new CountDownLatch(1);
            heldDone = new CountDownLatch(1);
            heldReleaseAnswered.await(); // the worker gave up on this call and its first release came back
        } else if (path.endsWith("/lease")) {
            heldDone.await(); // a held lease call reaches the registry first
        }
        Answer r = registry.forward(request);
        if ((fault == Fault.HTML_PAGE || fault == Fault.LOST_GRANT) && r.status() != 200) {
            matched.left().incrementAndGet(); // not a 200: passed through, the fault waits for one
            fault = null;
        }
        boolean lost = fault == Fault.LOST_ANSWER || fault == Fault.LOST_GRANT || fault == Fault.LATE_GRANT;
        seen.add(new Seen(method, path, text, fault, lost ? 0 : r.status(), r.text()));
        if (heldRequest != null && path.equals("/api/v1/conversions/lease-requests/" + heldRequest + "/release")) {
            heldReleaseAnswered.countDown();
        }
        if (fault == Fault.LATE_GRANT) {
            heldRequest = null;
            heldDone.countDown();
        }
        if (fault == Fault.HTML_PAGE) return Optional.of(Answer.html(200, "<html><body>Down for maintenance</body></html>"));
        return lost ? Optional.empty() : Optional.of(r);
    }

    @Override
    public void close() {
        closed.countDown();
        heldReleaseAnswered.countDown();
        heldDone.countDown();
        proxy.close();
    }
}
