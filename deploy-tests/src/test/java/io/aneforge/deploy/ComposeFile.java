package io.aneforge.deploy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/** docker-compose.yml, interpolated with an empty environment (so every default applies) and parsed. */
final class ComposeFile {

    final JsonNode root;
    final Set<String> variablesWithoutDefault;

    private ComposeFile(JsonNode root, Set<String> variablesWithoutDefault) {
        this.root = root;
        this.variablesWithoutDefault = variablesWithoutDefault;
    }

    static ComposeFile load() {
        return parse(Repository.read("docker-compose.yml"), Map.of());
    }

    static ComposeFile parse(String text, Map<String, String> environment) {
        ComposeInterpolation interpolation = new ComposeInterpolation(environment);
        JsonNode root = Yaml.parse(interpolation.apply(text));
        return new ComposeFile(root, interpolation.variablesWithoutDefault());
    }

    Set<String> serviceNames() {
        return new LinkedHashSet<>(root.path("services").propertyNames());
    }

    JsonNode service(String name) {
        JsonNode service = root.path("services").path(name);
        if (service.isMissingNode()) {
            throw new AssertionError("docker-compose.yml has no service `" + name + "`; services: " + serviceNames());
        }
        return service;
    }

    /** A service's environment, in either of compose's forms (map or list of NAME=value). */
    Map<String, String> environment(String serviceName) {
        JsonNode env = service(serviceName).path("environment");
        Map<String, String> out = new LinkedHashMap<>();
        if (env.isObject()) {
            for (Map.Entry<String, JsonNode> e : env.properties()) {
                out.put(e.getKey(), e.getValue().isNull() ? "" : e.getValue().asString());
            }
        } else if (env.isArray()) {
            for (JsonNode item : env) {
                String s = item.asString();
                int eq = s.indexOf('=');
                out.put(eq < 0 ? s : s.substring(0, eq), eq < 0 ? "" : s.substring(eq + 1));
            }
        }
        return out;
    }

    /** depends_on as service -> condition (the short list form means service_started). */
    Map<String, String> dependsOn(String serviceName) {
        JsonNode deps = service(serviceName).path("depends_on");
        Map<String, String> out = new LinkedHashMap<>();
        if (deps.isArray()) {
            for (JsonNode d : deps) {
                out.put(d.asString(), "service_started");
            }
        } else if (deps.isObject()) {
            for (Map.Entry<String, JsonNode> e : deps.properties()) {
                out.put(e.getKey(), e.getValue().path("condition").asString("service_started"));
            }
        }
        return out;
    }

    /** The health check command as a list (CMD / CMD-SHELL first), empty without one. */
    List<String> healthcheck(String serviceName) {
        JsonNode test = service(serviceName).path("healthcheck").path("test");
        List<String> out = new ArrayList<>();
        if (test.isArray()) {
            test.forEach(t -> out.add(t.asString()));
        } else if (test.isString()) {
            out.add("CMD-SHELL");
            out.add(test.asString());
        }
        return out;
    }

    /** Published ports in short syntax, e.g. {@code 8080:8080}. */
    List<String> ports(String serviceName) {
        List<String> out = new ArrayList<>();
        service(serviceName).path("ports").forEach(p -> out.add(p.asString()));
        return out;
    }

    /** Volume mounts in short syntax, e.g. {@code hf-cache:/var/cache/huggingface}. */
    List<String> volumes(String serviceName) {
        List<String> out = new ArrayList<>();
        service(serviceName).path("volumes").forEach(v -> out.add(v.asString()));
        return out;
    }
}
