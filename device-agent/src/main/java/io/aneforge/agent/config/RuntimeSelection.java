package io.aneforge.agent.config;

import io.aneforge.runtime.ModelRuntime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which runtimes the agent offers: those listed in {@code aneforge.agent.runtimes} that are
 * on the classpath and available on this host. A listed id that no runtime on the classpath
 * has is a configuration error (a typo would otherwise silently offer nothing); a known
 * runtime that cannot run here (Core ML on Linux) is simply not offered.
 */
public final class RuntimeSelection {

    private RuntimeSelection() {}

    public static List<ModelRuntime> select(List<String> configured, List<ModelRuntime> discovered) {
        Map<String, ModelRuntime> byId = new LinkedHashMap<>();
        for (ModelRuntime r : discovered) {
            byId.putIfAbsent(r.id(), r);
        }
        List<ModelRuntime> offered = new ArrayList<>();
        for (String id : configured) {
            ModelRuntime r = byId.get(id);
            if (r == null) {
                throw new IllegalStateException("aneforge.agent.runtimes lists '" + id
                        + "', but no ModelRuntime on the classpath has that id; known: " + byId.keySet()
                        + ". Fix the list (env ANEFORGE_AGENT_RUNTIMES) or add the runtime's module");
            }
            if (r.isAvailable()) {
                offered.add(r);
            }
        }
        return List.copyOf(offered);
    }
}
