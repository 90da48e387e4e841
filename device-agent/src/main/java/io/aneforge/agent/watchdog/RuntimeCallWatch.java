package io.aneforge.agent.watchdog;

import io.aneforge.runtime.LoadedModel;
import io.aneforge.runtime.ModelRuntime;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.tensor.FloatTensor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Times the runtime calls of the job in hand (load, predict, close: Core ML through JNA, or the reference runtime)
 * against a bound ({@code aneforge.agent.max-runtime-call}, env {@code ANEFORGE_AGENT_MAX_RUNTIME_CALL}). A call that
 * never returns (a wedged native framework) leaves the agent's other threads going: the heartbeat thread would keep
 * the job's lease and the liveness file fresh for ever, and nothing would notice. {@link #overrun()} names such a
 * call once it has run longer than the bound; the agent loop then gives the job up and the liveness file stops being
 * refreshed, so the orchestrator restarts the agent.
 *
 * <p>One job runs at a time, so one call is watched at a time; {@link #around} wraps the job's runtime so that the
 * code running the job (the benchmark runner, the accuracy loop) is unchanged.
 */
public final class RuntimeCallWatch {

    private final Duration bound;
    private final LongSupplier nanoTime;
    /** The call under way, or null. */
    private volatile Call current;

    private record Call(String what, long startNanos) {}

    public RuntimeCallWatch(Duration bound) {
        this(bound, System::nanoTime);
    }

    RuntimeCallWatch(Duration bound, LongSupplier nanoTime) {
        if (bound == null || bound.isNegative() || bound.isZero()) {
            throw new IllegalArgumentException("aneforge.agent.max-runtime-call must be positive, got " + bound
                    + " (env ANEFORGE_AGENT_MAX_RUNTIME_CALL, e.g. 30m)");
        }
        this.bound = bound;
        this.nanoTime = nanoTime;
    }

    /**
     * The runtime call that has run longer than the bound, described with the job, the runtime and the bound (for the
     * log and the job's failure), or empty while no call has.
     */
    public Optional<String> overrun() {
        Call c = current;
        if (c == null) {
            return Optional.empty();
        }
        Duration ran = Duration.ofNanos(nanoTime.getAsLong() - c.startNanos());
        if (ran.compareTo(bound) <= 0) {
            return Optional.empty();
        }
        return Optional.of(c.what() + " has not returned after " + readable(ran) + ", longer than"
                + " aneforge.agent.max-runtime-call (" + readable(bound) + ", env ANEFORGE_AGENT_MAX_RUNTIME_CALL)");
    }

    /**
     * {@code runtime} with its load, and its models' predictions and close, watched.
     *
     * @param job what the calls are for, e.g. {@code job 12 (model m version 3, variant 7)}
     */
    public ModelRuntime around(ModelRuntime runtime, String job) {
        return new WatchedRuntime(runtime, job);
    }

    private <T> T timed(String what, Supplier<T> call) {
        Call outer = current;
        current = new Call(what, nanoTime.getAsLong());
        try {
            return call.get();
        } finally {
            current = outer;
        }
    }

    /** {@code 250 ms}, {@code 1.3 s}, {@code 31 min}: what an operator compares with the setting. */
    private static String readable(Duration d) {
        long ms = d.toMillis();
        if (ms < 1000) {
            return ms + " ms";
        }
        if (ms < 120_000) {
            return (ms % 1000 < 100 ? Long.toString(ms / 1000) : ms / 1000 + "." + ms % 1000 / 100) + " s";
        }
        return d.toMinutes() + " min";
    }

    private final class WatchedRuntime implements ModelRuntime {

        private final ModelRuntime delegate;
        private final String job;

        WatchedRuntime(ModelRuntime delegate, String job) {
            this.delegate = delegate;
            this.job = job;
        }

        @Override
        public String id() {
            return delegate.id();
        }

        @Override
        public String version() {
            return delegate.version();
        }

        @Override
        public boolean isAvailable() {
            return delegate.isAvailable();
        }

        @Override
        public LoadedModel load(Path mlpackage, RuntimeOptions options) {
            LoadedModel model = timed(describe("load"), () -> delegate.load(mlpackage, options));
            return new WatchedModel(model, this);
        }

        String describe(String call) {
            return "runtime " + delegate.id() + "'s " + call + " call for " + job;
        }
    }

    private final class WatchedModel implements LoadedModel {

        private final LoadedModel delegate;
        private final WatchedRuntime runtime;

        WatchedModel(LoadedModel delegate, WatchedRuntime runtime) {
            this.delegate = delegate;
            this.runtime = runtime;
        }

        @Override
        public Map<String, FloatTensor> predict(Map<String, FloatTensor> inputs) {
            return timed(runtime.describe("predict"), () -> delegate.predict(inputs));
        }

        @Override
        public List<Map<String, FloatTensor>> predictAll(List<Map<String, FloatTensor>> inputs) {
            return timed(runtime.describe("predict"), () -> delegate.predictAll(inputs));
        }

        @Override
        public long peakIntermediateBytes() {
            return delegate.peakIntermediateBytes();
        }

        @Override
        public void close() {
            timed(runtime.describe("close"), () -> {
                delegate.close();
                return null;
            });
        }
    }
}
