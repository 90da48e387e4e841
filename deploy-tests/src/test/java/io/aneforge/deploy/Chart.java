package io.aneforge.deploy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.InstallCommand;
import com.marcnuri.helm.TemplateCommand;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import tools.jackson.databind.JsonNode;

/** helm/aneforge rendered by helm itself (helm-java's native library), as parsed manifests. */
final class Chart {

    static final Path DIR = Repository.path("helm/aneforge");
    static final String RELEASE = "af";
    static final String NAMESPACE = "aneforge";
    /** The default fullname for release "af": "<release>-aneforge". */
    static final String FULLNAME = RELEASE + "-aneforge";
    static final String KUBE_VERSION = "1.31.0";

    private Chart() {
    }

    /**
     * Set first on every render but {@link #renderAsIs} (a later value of the same key wins). With workers enabled
     * the chart refuses to render until they have database credentials of their own or opt in to the registry's;
     * tests about anything else render with the opt-in, as the quick start in docs/deploy.md does.
     */
    static final Object[] SHARED_WORKER_DATABASE = {"worker.shareRegistryDatabaseCredentials", true};

    /**
     * {@code helm template af helm/aneforge --namespace aneforge --set worker.shareRegistryDatabaseCredentials=true
     * --set k=v ...}.
     */
    static Rendered render(Object... keyValues) {
        return renderWithValues(null, keyValues);
    }

    /** {@code helm template af helm/aneforge --namespace aneforge --set k=v ...}: the chart's defaults and these values. */
    static Rendered renderAsIs(Object... keyValues) {
        return renderExactly(RELEASE, null, keyValues);
    }

    /** As {@link #renderAsIs} for another release name. */
    static Rendered renderReleaseAsIs(String release, Object... keyValues) {
        return renderExactly(release, null, keyValues);
    }

    /**
     * {@code helm template ... -f values.yaml --set k=v ...}: a values file, unlike --set, gives every
     * number as a float, the way users' values files reach the templates.
     */
    static Rendered renderWithValues(String valuesYaml, Object... keyValues) {
        return renderRelease(RELEASE, valuesYaml, keyValues);
    }

    /** As {@link #renderWithValues} for another release name. */
    static Rendered renderRelease(String release, String valuesYaml, Object... keyValues) {
        Object[] all = java.util.Arrays.copyOf(SHARED_WORKER_DATABASE, SHARED_WORKER_DATABASE.length + keyValues.length);
        System.arraycopy(keyValues, 0, all, SHARED_WORKER_DATABASE.length, keyValues.length);
        return renderExactly(release, valuesYaml, all);
    }

    /**
     * The NOTES.txt text helm prints after {@code helm install af helm/aneforge --namespace aneforge --set k=v ...}
     * (a client-only dry run: nothing is installed), for exactly these values over the chart's defaults.
     */
    static String notesAsIs(Object... keyValues) {
        if (keyValues.length % 2 != 0) {
            throw new IllegalArgumentException("notes take key, value pairs");
        }
        FakeKubeApi.get();
        InstallCommand install = new Helm(DIR).install().withName(RELEASE).withNamespace(NAMESPACE)
                .withKubeVersion(KUBE_VERSION).dryRun().clientOnly();
        for (int i = 0; i < keyValues.length; i += 2) {
            install = install.set((String) keyValues[i], keyValues[i + 1]);
        }
        String out = install.call().getOutput();
        int notes = out.indexOf("NOTES:\n");
        if (notes < 0) {
            throw new AssertionError("helm install --dry-run printed no NOTES: " + out);
        }
        return out.substring(notes + "NOTES:\n".length());
    }

    private static Rendered renderExactly(String release, String valuesYaml, Object... keyValues) {
        if (keyValues.length % 2 != 0) {
            throw new IllegalArgumentException("render takes key, value pairs");
        }
        FakeKubeApi.get(); // answers the chart's lookup calls
        // helm's default for an offline render is an old Kubernetes (1.20), below the chart's kubeVersion.
        TemplateCommand template = new Helm(DIR).template().withName(release).withNamespace(NAMESPACE)
                .withKubeVersion(KUBE_VERSION);
        Path values = null;
        try {
            if (valuesYaml != null) {
                values = java.nio.file.Files.createTempFile("aneforge-values", ".yaml");
                java.nio.file.Files.writeString(values, valuesYaml);
                template = template.withValuesFile(values);
            }
            for (int i = 0; i < keyValues.length; i += 2) {
                template = template.set((String) keyValues[i], keyValues[i + 1]);
            }
            return new Rendered(Yaml.parseAll(template.call()));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } finally {
            if (values != null) {
                values.toFile().delete();
            }
        }
    }

    record Rendered(List<JsonNode> manifests) {

        List<JsonNode> ofKind(String kind) {
            List<JsonNode> out = new ArrayList<>();
            for (JsonNode m : manifests) {
                if (kind.equals(m.path("kind").asString())) {
                    out.add(m);
                }
            }
            return out;
        }

        JsonNode get(String kind, String name) {
            for (JsonNode m : ofKind(kind)) {
                if (name.equals(m.path("metadata").path("name").asString())) {
                    return m;
                }
            }
            throw new AssertionError("no " + kind + " named " + name + " in the rendered chart; " + kind + "s: "
                    + ofKind(kind).stream().map(m -> m.path("metadata").path("name").asString()).toList());
        }

        boolean has(String kind, String name) {
            return ofKind(kind).stream().anyMatch(m -> name.equals(m.path("metadata").path("name").asString()));
        }

        /** The Deployment or StatefulSet running a component. */
        JsonNode workload(String component) {
            String name = FULLNAME + "-" + component;
            return has("StatefulSet", name) ? get("StatefulSet", name) : get("Deployment", name);
        }

        JsonNode container(String component) {
            JsonNode containers = workload(component).path("spec").path("template").path("spec").path("containers");
            if (containers.size() != 1) {
                throw new AssertionError(component + " pods should run exactly one container, got " + containers.size());
            }
            return containers.get(0);
        }

        Map<String, String> configMap(String name) {
            Map<String, String> out = new LinkedHashMap<>();
            get("ConfigMap", name).path("data").properties().forEach(e -> out.put(e.getKey(), e.getValue().asString()));
            return out;
        }

        /** A Secret's data, decoded. */
        Map<String, String> secret(String name) {
            Map<String, String> out = new LinkedHashMap<>();
            JsonNode secret = get("Secret", name);
            secret.path("data").properties().forEach(e -> out.put(e.getKey(),
                    new String(java.util.Base64.getDecoder().decode(e.getValue().asString()),
                            java.nio.charset.StandardCharsets.UTF_8)));
            secret.path("stringData").properties().forEach(e -> out.put(e.getKey(), e.getValue().asString()));
            return out;
        }

        /**
         * The environment a component's container sees: its ConfigMaps (envFrom) and its env
         * entries; a secretKeyRef shows as {@code secret:<name>/<key>}, a fieldRef as {@code field:<path>}.
         */
        Map<String, String> environment(String component) {
            JsonNode container = container(component);
            Map<String, String> out = new LinkedHashMap<>();
            for (JsonNode from : container.path("envFrom")) {
                String configMap = from.path("configMapRef").path("name").asString(null);
                if (configMap != null) {
                    out.putAll(configMap(configMap));
                }
                if (from.has("secretRef")) {
                    throw new AssertionError(component + " takes a whole Secret as envFrom; reference keys one by one");
                }
            }
            for (JsonNode env : container.path("env")) {
                String name = env.path("name").asString();
                JsonNode ref = env.path("valueFrom").path("secretKeyRef");
                JsonNode field = env.path("valueFrom").path("fieldRef");
                if (!ref.isMissingNode()) {
                    out.put(name, "secret:" + ref.path("name").asString() + "/" + ref.path("key").asString());
                } else if (!field.isMissingNode()) {
                    out.put(name, "field:" + field.path("fieldPath").asString());
                } else {
                    out.put(name, env.path("value").asString(""));
                }
            }
            return out;
        }

        /** The value behind an environment entry, following a secretKeyRef into the rendered Secret. */
        String resolve(String component, String env) {
            String value = Objects.requireNonNull(environment(component).get(env), () -> component + " has no env " + env);
            if (!value.startsWith("secret:")) {
                return value;
            }
            String[] ref = value.substring("secret:".length()).split("/", 2);
            return secret(ref[0]).get(ref[1]);
        }
    }
}
