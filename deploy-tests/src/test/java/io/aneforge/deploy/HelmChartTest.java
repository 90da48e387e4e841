package io.aneforge.deploy;

import static io.aneforge.deploy.Chart.FULLNAME;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * helm/aneforge linted and rendered by helm (helm-java bundles it as a native library; no
 * cluster needed), then checked as Kubernetes objects: images, environment wiring against the
 * applications' configuration, probes against actuator, replicas, secrets, toggles.
 */
class HelmChartTest {

    /** Values with a distinct marker in every secret, to find where secrets end up. */
    private static final Object[] SECRET_VALUES = {
            "database.password", "pw-db-4711",
            "s3.accessKey", "ak-s3-4711",
            "s3.secretKey", "sk-s3-4711",
            "tokens.admin", "tok-admin-4711",
            "tokens.worker", "tok-worker-4711",
            "tokens.agent", "tok-agent-4711",
            "tokens.huggingFace", "tok-hf-4711",
            "tokens.workerMetrics", "tok-metrics-4711",
            "tokens.downloadSigningKey", "key-sign-4711",
            "tokens.downloadSigningKeyPrevious", "key-prev-4711",
            "agent.enabled", true};

    /**
     * Variables whose names match the secret-looking pattern but hold no secret: a switch about tokens, set from a
     * value (registry.tokens.publisherModelsRequired) into the ConfigMap, so a change of it rolls the pods.
     */
    private static final java.util.Set<String> NOT_SECRETS = java.util.Set.of("ANEFORGE_TOKENS_PUBLISHER_MODELS_REQUIRED");

    private static Chart.Rendered defaults;
    private static Chart.Rendered withSecrets;

    @BeforeAll
    static void render() {
        defaults = Chart.render();
        withSecrets = Chart.render(SECRET_VALUES);
    }

    @Test
    void lintsCleanInStrictMode() {
        LintResult lint = new Helm(Chart.DIR).lint().strict().call();
        assertThat(lint.isFailed()).as("helm lint --strict: %s", lint.getMessages()).isFalse();
        assertThat(lint.getMessages()).noneMatch(m -> m.contains("[ERROR]") || m.contains("[WARNING]"));
    }

    @Test
    void defaultsRenderRegistryAndWorkerButNoOptionalParts() {
        assertThat(names(defaults, "Deployment")).containsExactly(FULLNAME + "-registry");
        assertThat(names(defaults, "StatefulSet")).containsExactly(FULLNAME + "-worker");
        assertThat(names(defaults, "Service")).containsExactlyInAnyOrder(FULLNAME + "-registry", FULLNAME + "-worker");
        assertThat(names(defaults, "Secret")).containsExactlyInAnyOrder(
                FULLNAME + "-database", FULLNAME + "-s3", FULLNAME + "-tokens", FULLNAME + "-admin-token");
        assertThat(defaults.ofKind("Ingress")).isEmpty();
        assertThat(defaults.ofKind("HorizontalPodAutoscaler")).isEmpty();
        assertThat(defaults.ofKind("PodDisruptionBudget")).hasSize(1);
    }

    @Test
    void imagesDefaultToTheChartAppVersionWhichIsTheProjectVersion() {
        JsonNode chart = Yaml.parse(Repository.read("helm/aneforge/Chart.yaml"));
        String appVersion = chart.path("appVersion").asString();
        assertThat(appVersion).isEqualTo(Repository.projectVersion());
        assertThat(withSecrets.container("registry").path("image").asString()).isEqualTo("aneforge/registry-api:" + appVersion);
        assertThat(withSecrets.container("worker").path("image").asString()).isEqualTo("aneforge/converter-worker:" + appVersion);
        assertThat(withSecrets.container("agent").path("image").asString()).isEqualTo("aneforge/device-agent:" + appVersion);
        // The compose file tags the images it builds the same way.
        assertThat(ComposeFile.load().service("registry-api").path("image").asString())
                .isEqualTo("aneforge/registry-api:" + appVersion);
    }

    @Test
    void imageRegistryAndTagsOverride() {
        Chart.Rendered r = Chart.render("image.registry", "ghcr.io/acme/", "image.tag", "1.0.0",
                "registry.image.tag", "1.0.1");
        assertThat(r.container("registry").path("image").asString()).isEqualTo("ghcr.io/acme/aneforge/registry-api:1.0.1");
        assertThat(r.container("worker").path("image").asString()).isEqualTo("ghcr.io/acme/aneforge/converter-worker:1.0.0");
    }

    @Test
    void everyComponentGetsWhatItsApplicationRequires() {
        for (Map.Entry<String, SpringApp> e : Map.of("registry", SpringApp.REGISTRY, "worker", SpringApp.WORKER,
                "agent", SpringApp.AGENT).entrySet()) {
            Map<String, String> env = withSecrets.environment(e.getKey());
            assertThat(env.keySet()).as("environment of the %s pods vs. what %s needs", e.getKey(), e.getValue().module())
                    .containsAll(e.getValue().requiredEnv());
            // A variable only other values expand ($(POD_NAME)) is an input of the pod spec, not of the application.
            java.util.Set<String> expanded = new java.util.HashSet<>();
            env.values().forEach(v -> java.util.regex.Pattern.compile("\\$\\(([A-Z_]+)\\)").matcher(v).results()
                    .forEach(m -> expanded.add(m.group(1))));
            assertThat(env.keySet()).as("variables of the %s pods that %s does not read", e.getKey(), e.getValue().module())
                    .allSatisfy(name -> assertThat(e.getValue().knows(name) || expanded.contains(name)).as(name).isTrue());
        }
    }

    @Test
    void registryConfigurationAndSecretsAreWired() {
        Map<String, String> env = withSecrets.environment("registry");
        assertThat(env).containsEntry("SPRING_DATASOURCE_URL", "jdbc:postgresql://postgresql:5432/aneforge")
                .containsEntry("SPRING_DATASOURCE_USERNAME", "aneforge")
                .containsEntry("ANEFORGE_S3_ENDPOINT", "http://minio:9000")
                .containsEntry("ANEFORGE_S3_BUCKET", "aneforge");
        assertThat(SpringApp.REGISTRY.effective("management.endpoint.health.probes.enabled", env)).isEqualTo("true");
        assertThat(withSecrets.resolve("registry", "SPRING_DATASOURCE_PASSWORD")).isEqualTo("pw-db-4711");
        assertThat(withSecrets.resolve("registry", "ANEFORGE_S3_ACCESS_KEY")).isEqualTo("ak-s3-4711");
        assertThat(withSecrets.resolve("registry", "ANEFORGE_S3_SECRET_KEY")).isEqualTo("sk-s3-4711");
        assertThat(withSecrets.resolve("registry", "ANEFORGE_ADMIN_TOKEN")).isEqualTo("tok-admin-4711");
        assertThat(withSecrets.resolve("worker", "ANEFORGE_WORKER_TOKEN")).isEqualTo("tok-worker-4711");
        assertThat(withSecrets.resolve("worker", "SPRING_DATASOURCE_PASSWORD")).isEqualTo("pw-db-4711");
        assertThat(withSecrets.resolve("worker", "HF_TOKEN")).isEqualTo("tok-hf-4711");
        assertThat(withSecrets.resolve("worker", "ANEFORGE_WORKER_METRICS_TOKEN")).isEqualTo("tok-metrics-4711");
        assertThat(withSecrets.environment("registry")).doesNotContainKey("ANEFORGE_WORKER_METRICS_TOKEN");
        assertThat(withSecrets.resolve("registry", "ANEFORGE_DOWNLOAD_SIGNING_KEY")).isEqualTo("key-sign-4711");
        assertThat(withSecrets.resolve("registry", "ANEFORGE_DOWNLOAD_SIGNING_KEY_PREVIOUS")).isEqualTo("key-prev-4711");
        assertThatThrownBy(() -> Chart.render("tokens.downloadSigningKeyPrevious", "k"))
                .hasMessageContaining("tokens.downloadSigningKeyPrevious is set without tokens.downloadSigningKey");
        assertThat(env).containsEntry("ANEFORGE_DOWNLOAD_URL_TTL", "15m");
        assertThat(withSecrets.resolve("agent", "ANEFORGE_AGENT_REGISTRY_TOKEN")).isEqualTo("tok-agent-4711");
        // Least privilege: the worker and agent never see the S3 keys or the admin token.
        assertThat(withSecrets.environment("worker")).doesNotContainKeys("ANEFORGE_S3_SECRET_KEY", "ANEFORGE_ADMIN_TOKEN");
        assertThat(withSecrets.environment("agent")).doesNotContainKeys("ANEFORGE_S3_SECRET_KEY", "ANEFORGE_ADMIN_TOKEN",
                "SPRING_DATASOURCE_PASSWORD");
    }

    @Test
    void secretsAppearOnlyInSecrets() {
        List<String> markers = new ArrayList<>();
        for (int i = 1; i < SECRET_VALUES.length; i += 2) {
            if (SECRET_VALUES[i] instanceof String s) {
                markers.add(s);
            }
        }
        for (JsonNode manifest : withSecrets.manifests()) {
            if (manifest.path("kind").asString().equals("Secret")) {
                continue;
            }
            String text = manifest.toString();
            assertThat(markers).as("secret values in %s %s", manifest.path("kind").asString(),
                    manifest.path("metadata").path("name").asString()).noneMatch(text::contains);
        }
        Pattern secretish = Pattern.compile("(?i)PASSWORD|SECRET|TOKEN|ACCESS_KEY");
        for (JsonNode configMap : withSecrets.ofKind("ConfigMap")) {
            assertThat(configMap.path("data").propertyNames())
                    .as("keys of ConfigMap %s", configMap.path("metadata").path("name").asString())
                    .noneMatch(k -> secretish.matcher(k).find() && !NOT_SECRETS.contains(k));
        }
        // Every secret-looking variable a pod sees comes from a Secret.
        for (String component : List.of("registry", "worker", "agent")) {
            withSecrets.environment(component).forEach((name, value) -> {
                if (secretish.matcher(name).find() && !NOT_SECRETS.contains(name)) {
                    assertThat(value).as("%s %s", component, name).startsWith("secret:");
                }
            });
        }
    }

    @Test
    void secretLookingExtraEnvIsRefusedBecauseItWouldLandInAConfigMap() {
        assertThatThrownBy(() -> Chart.render("worker.env.HF_TOKEN", "hf_abc"))
                .hasMessageContaining("worker.env.HF_TOKEN looks like a secret")
                .hasMessageContaining("put it in a Secret");
        // Not matched by the secret-looking names: refused as a variable the chart sets, naming the value to use.
        assertThatThrownBy(() -> Chart.render("registry.env.ANEFORGE_DOWNLOAD_SIGNING_KEY", "c2lnbg=="))
                .hasMessageContaining("tokens.downloadSigningKey");
        assertThat(Chart.render("registry.env.ANEFORGE_BLOBS_MAX_SIZE", "4294967296").environment("registry"))
                .containsEntry("ANEFORGE_BLOBS_MAX_SIZE", "4294967296");
    }

    /**
     * docs/deploy.md turns the publisher scope requirement on with a value: registry.env cannot carry the variable, whose
     * name contains TOKEN, and is refused naming the value instead of a Secret.
     */
    @Test
    void publisherModelsRequiredIsAValueRenderedIntoTheRegistryEnvironment() {
        assertThat(defaults.environment("registry")).containsEntry("ANEFORGE_TOKENS_PUBLISHER_MODELS_REQUIRED", "false");
        assertThat(SpringApp.REGISTRY.knows("ANEFORGE_TOKENS_PUBLISHER_MODELS_REQUIRED")).isTrue();
        Chart.Rendered on = Chart.render("registry.tokens.publisherModelsRequired", true);
        assertThat(on.environment("registry")).containsEntry("ANEFORGE_TOKENS_PUBLISHER_MODELS_REQUIRED", "true");
        assertThat(on.environment("worker")).doesNotContainKey("ANEFORGE_TOKENS_PUBLISHER_MODELS_REQUIRED");
        // In the ConfigMap, whose checksum is a pod annotation: turning it on rolls the registry pods.
        assertThat(checksum(on, "registry", "checksum/config")).isNotEqualTo(checksum(defaults, "registry", "checksum/config"));
        // The command docs/deploy.md gives.
        assertThat(Repository.read("docs/deploy.md")).contains("--set registry.tokens.publisherModelsRequired=true");
        assertThatThrownBy(() -> Chart.render("registry.env.ANEFORGE_TOKENS_PUBLISHER_MODELS_REQUIRED", "true"))
                .hasMessageContaining("set registry.tokens.publisherModelsRequired instead");
        // A boolean (the schema): "yes" would only fail when the registry starts.
        assertThatThrownBy(() -> Chart.render("registry.tokens.publisherModelsRequired", "yes"))
                .hasMessageContaining("publisherModelsRequired");
    }

    @Test
    void jvmOptionsGoThroughExtraEnvAsJavaOpts() {
        // The images append JAVA_OPTS after their own flags (heap sizing, exit on OOM), so it is safe to set.
        assertThat(Chart.render("worker.env.JAVA_OPTS", "-Daneforge.vector=false -Xlog:gc").environment("worker"))
                .containsEntry("JAVA_OPTS", "-Daneforge.vector=false -Xlog:gc");
        assertThat(Repository.read("helm/aneforge/values.yaml")).contains("JAVA_OPTS");
    }

    @Test
    void extraEnvFromAValuesFileKeepsNumbersAsWritten() {
        // A values file gives numbers as floats: printed as they came, 4294967296 would be "4.294967296e+09",
        // which Spring cannot bind to a long.
        Chart.Rendered r = Chart.renderWithValues("""
                registry:
                  env:
                    ANEFORGE_BLOBS_MAX_SIZE: 4294967296
                    ANEFORGE_SOME_RATIO: 0.75
                    ANEFORGE_SOME_FLAG: true
                    ANEFORGE_SOME_NEGATIVE: -3
                worker:
                  env:
                    ANEFORGE_WORKER_RETRIES: 5
                agent:
                  enabled: true
                  env:
                    ANEFORGE_AGENT_SOME_SIZE: 10000000000
                """);
        assertThat(r.environment("registry")).containsEntry("ANEFORGE_BLOBS_MAX_SIZE", "4294967296")
                .containsEntry("ANEFORGE_SOME_RATIO", "0.75")
                .containsEntry("ANEFORGE_SOME_FLAG", "true")
                .containsEntry("ANEFORGE_SOME_NEGATIVE", "-3");
        assertThat(r.environment("worker")).containsEntry("ANEFORGE_WORKER_RETRIES", "5");
        assertThat(r.environment("agent")).containsEntry("ANEFORGE_AGENT_SOME_SIZE", "10000000000");
    }

    /** The registry checks a local source's path lexically, the workers its real path: both need the same roots. */
    @Test
    void registryAndWorkersGetTheSameLocalSourceRoots() {
        assertThat(defaults.environment("registry")).containsEntry("ANEFORGE_SOURCES_LOCAL_ROOTS", "");
        assertThat(defaults.environment("worker")).containsEntry("ANEFORGE_SOURCES_LOCAL_ROOTS", "");
        Chart.Rendered set = Chart.render("sources.localRoots", "/srv/snapshots,/mnt/models");
        assertThat(set.environment("registry")).containsEntry("ANEFORGE_SOURCES_LOCAL_ROOTS", "/srv/snapshots,/mnt/models");
        assertThat(set.environment("worker")).containsEntry("ANEFORGE_SOURCES_LOCAL_ROOTS", "/srv/snapshots,/mnt/models");
        assertThat(SpringApp.REGISTRY.knows("ANEFORGE_SOURCES_LOCAL_ROOTS")).isTrue();
        assertThat(SpringApp.WORKER.knows("ANEFORGE_SOURCES_LOCAL_ROOTS")).isTrue();
        assertThatThrownBy(() -> Chart.render("worker.env.ANEFORGE_SOURCES_LOCAL_ROOTS", "/elsewhere"))
                .hasMessageContaining("set sources.localRoots instead");
    }

    @Test
    void extraEnvMayNotSetAVariableTheChartSets() {
        // Twice in one ConfigMap, which value wins depends on the client; each has its own value or is wiring.
        assertThatThrownBy(() -> Chart.render("registry.env.ANEFORGE_CACHE_TTL", "30s"))
                .hasMessageContaining("registry.env.ANEFORGE_CACHE_TTL is set by the chart from registry.cacheTtl")
                .hasMessageContaining("set registry.cacheTtl instead");
        assertThatThrownBy(() -> Chart.render("worker.env.ANEFORGE_WORKER_CONCURRENCY", 4))
                .hasMessageContaining("set worker.concurrency instead");
        assertThatThrownBy(() -> Chart.render("registry.env.ANEFORGE_DATA_DIR", "/data"))
                .hasMessageContaining("registry.env.ANEFORGE_DATA_DIR is set by the chart (a mount path");
        // Every variable the chart gives a component's pods is covered, so no key can appear twice.
        for (String component : List.of("registry", "worker", "agent")) {
            for (String name : withSecrets.environment(component).keySet()) {
                if (Pattern.compile("(?i)PASSWORD|SECRET|TOKEN|ACCESS_KEY").matcher(name).find()
                        && !NOT_SECRETS.contains(name)) {
                    continue; // refused as secret-looking already
                }
                assertThatThrownBy(() -> Chart.render("agent.enabled", true, component + ".env." + name, "x"))
                        .as("%s.env.%s", component, name)
                        .hasMessageContaining(component + ".env." + name + " is set by the chart");
            }
        }
    }

    @Test
    void existingSecretsAreReferencedInsteadOfRendered() {
        Chart.Rendered r = Chart.render("database.existingSecret", "pg-cred", "database.existingSecretPasswordKey", "pgpass",
                "s3.existingSecret", "s3-cred", "tokens.existingSecret", "af-tokens", "agent.enabled", true);
        assertThat(r.ofKind("Secret")).isEmpty();
        assertThat(r.environment("registry")).containsEntry("SPRING_DATASOURCE_PASSWORD", "secret:pg-cred/pgpass")
                .containsEntry("ANEFORGE_S3_ACCESS_KEY", "secret:s3-cred/access-key")
                .containsEntry("ANEFORGE_S3_SECRET_KEY", "secret:s3-cred/secret-key")
                .containsEntry("ANEFORGE_ADMIN_TOKEN", "secret:af-tokens/admin-token")
                .containsEntry("ANEFORGE_DOWNLOAD_SIGNING_KEY", "secret:af-tokens/download-signing-key");
        assertThat(r.environment("worker")).containsEntry("ANEFORGE_WORKER_TOKEN", "secret:af-tokens/worker-token");
        assertThat(r.environment("agent")).containsEntry("ANEFORGE_AGENT_REGISTRY_TOKEN", "secret:af-tokens/agent-token");

        assertThatThrownBy(() -> Chart.render("database.existingSecret", "pg-cred", "database.password", "x"))
                .hasMessageContaining("database.password and database.existingSecret are both set");
    }

    @Test
    void anEmptyAdminTokenIsGeneratedOnceAndWorkersFallBackToIt() {
        String generated = FULLNAME + "-admin-token";
        JsonNode secret = defaults.get("Secret", generated);
        // Kept on uninstall, and re-rendered with its stored value (lookup) on upgrades and reinstalls.
        assertThat(secret.path("metadata").path("annotations").path("helm.sh/resource-policy").asString()).isEqualTo("keep");
        assertThat(defaults.secret(generated).get("admin-token")).matches("[A-Za-z0-9]{48}");
        assertThat(defaults.secret(FULLNAME + "-tokens")).doesNotContainKey("admin-token");
        assertThat(defaults.environment("registry")).containsEntry("ANEFORGE_ADMIN_TOKEN", "secret:" + generated + "/admin-token");
        assertThat(defaults.environment("worker")).containsEntry("ANEFORGE_WORKER_TOKEN", "secret:" + generated + "/admin-token");
        assertThat(Chart.render("agent.enabled", true).environment("agent"))
                .containsEntry("ANEFORGE_AGENT_REGISTRY_TOKEN", "secret:" + generated + "/admin-token");

        // Given tokens, nothing is generated and each component uses its own.
        assertThat(withSecrets.has("Secret", generated)).isFalse();
        assertThat(withSecrets.environment("worker"))
                .containsEntry("ANEFORGE_WORKER_TOKEN", "secret:" + FULLNAME + "-tokens/worker-token");
        Chart.Rendered adminOnly = Chart.render("tokens.admin", "a");
        assertThat(adminOnly.environment("worker")).containsEntry("ANEFORGE_WORKER_TOKEN", "secret:" + FULLNAME + "-tokens/admin-token");
        assertThat(adminOnly.resolve("worker", "ANEFORGE_WORKER_TOKEN")).isEqualTo("a");
    }

    @Test
    void probesHitActuatorOnTheServedPort() {
        JsonNode container = withSecrets.container("registry");
        JsonNode port = container.path("ports").get(0);
        assertThat(port.path("name").asString()).isEqualTo("http");
        assertThat(port.path("containerPort").asInt()).isEqualTo(SpringApp.REGISTRY.serverPort());
        assertThat(withSecrets.environment("registry"))
                .containsEntry("SERVER_PORT", String.valueOf(port.path("containerPort").asInt()));

        assertThat(container.path("startupProbe").path("httpGet").path("path").asString()).isEqualTo("/actuator/health/liveness");
        assertThat(container.path("livenessProbe").path("httpGet").path("path").asString()).isEqualTo("/actuator/health/liveness");
        assertThat(container.path("readinessProbe").path("httpGet").path("path").asString()).isEqualTo("/actuator/health/readiness");
        for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
            assertThat(container.path(probe).path("httpGet").path("port").asString()).as(probe).isEqualTo("http");
        }
        // Flyway runs during start-up: the startup probe must allow minutes, not seconds.
        JsonNode startup = container.path("startupProbe");
        assertThat(startup.path("periodSeconds").asInt() * startup.path("failureThreshold").asInt()).isGreaterThanOrEqualTo(180);
        // The probe groups come from the registry's application.yml; the chart does not set them again.
        Map<String, String> env = withSecrets.environment("registry");
        assertThat(SpringApp.REGISTRY.effective("management.endpoint.health.probes.enabled", env)).isEqualTo("true");
        assertThat(SpringApp.REGISTRY.effective("management.endpoint.health.group.readiness.include", env).split(","))
                .contains("readinessState", "db", "storage");
        assertThat(env).doesNotContainKeys("MANAGEMENT_ENDPOINT_HEALTH_PROBES_ENABLED",
                "MANAGEMENT_ENDPOINT_HEALTH_GROUP_READINESS_INCLUDE");
        assertThat(SpringApp.REGISTRY.exposesHealth()).isTrue();

        // Changing the port moves the container port, SERVER_PORT and (by name) the probes together.
        Chart.Rendered moved = Chart.render("registry.port", 9090);
        assertThat(moved.container("registry").path("ports").get(0).path("containerPort").asInt()).isEqualTo(9090);
        assertThat(moved.environment("registry")).containsEntry("SERVER_PORT", "9090");
    }

    @Test
    void serviceAndClientsPointAtTheRegistryPods() {
        JsonNode service = withSecrets.get("Service", FULLNAME + "-registry");
        JsonNode port = service.path("spec").path("ports").get(0);
        assertThat(port.path("targetPort").asString()).isEqualTo("http");
        JsonNode podLabels = withSecrets.workload("registry").path("spec").path("template").path("metadata").path("labels");
        service.path("spec").path("selector").properties()
                .forEach(e -> assertThat(podLabels.path(e.getKey()).asString()).as(e.getKey()).isEqualTo(e.getValue().asString()));
        // The worker's selector must not match registry pods (and the other way round).
        assertThat(withSecrets.workload("worker").path("spec").path("selector").path("matchLabels")
                .path("app.kubernetes.io/component").asString()).isEqualTo("worker");

        String url = "http://" + FULLNAME + "-registry:" + port.path("port").asInt();
        assertThat(withSecrets.environment("worker")).containsEntry("ANEFORGE_REGISTRY_URL", url);
        assertThat(withSecrets.environment("agent")).containsEntry("ANEFORGE_AGENT_REGISTRY_URL", url);
    }

    @Test
    void replicasFollowTheValues() {
        assertThat(defaults.workload("registry").path("spec").path("replicas").asInt()).isEqualTo(2);
        assertThat(defaults.workload("worker").path("spec").path("replicas").asInt()).isEqualTo(1);
        Chart.Rendered scaled = Chart.render("registry.replicaCount", 4, "worker.replicaCount", 6,
                "worker.concurrency", 2, "agent.enabled", true, "agent.replicaCount", 3);
        assertThat(scaled.workload("registry").path("spec").path("replicas").asInt()).isEqualTo(4);
        assertThat(scaled.workload("worker").path("spec").path("replicas").asInt()).isEqualTo(6);
        assertThat(scaled.environment("worker")).containsEntry("ANEFORGE_WORKER_CONCURRENCY", "2");
        assertThat(scaled.workload("agent").path("spec").path("replicas").asInt()).isEqualTo(3);
        assertThat(scaled.environment("agent")).containsEntry("ANEFORGE_AGENT_RUNTIMES", "reference-cpu");

        Chart.Rendered noWorker = Chart.render("worker.enabled", false);
        assertThat(names(noWorker, "Deployment")).containsExactly(FULLNAME + "-registry");
        assertThat(noWorker.ofKind("StatefulSet")).isEmpty();
        assertThat(names(noWorker, "Service")).containsExactly(FULLNAME + "-registry");
        assertThat(names(noWorker, "ConfigMap")).containsExactly(FULLNAME + "-registry");
    }

    @Test
    void autoscalingReplacesTheFixedReplicaCount() {
        Chart.Rendered r = Chart.render("registry.autoscaling.enabled", true, "registry.autoscaling.minReplicas", 3,
                "registry.autoscaling.maxReplicas", 12);
        JsonNode hpa = r.get("HorizontalPodAutoscaler", FULLNAME + "-registry");
        assertThat(hpa.path("apiVersion").asString()).isEqualTo("autoscaling/v2");
        assertThat(hpa.path("spec").path("scaleTargetRef").path("name").asString()).isEqualTo(FULLNAME + "-registry");
        assertThat(hpa.path("spec").path("scaleTargetRef").path("kind").asString()).isEqualTo("Deployment");
        assertThat(hpa.path("spec").path("minReplicas").asInt()).isEqualTo(3);
        assertThat(hpa.path("spec").path("maxReplicas").asInt()).isEqualTo(12);
        assertThat(hpa.path("spec").path("metrics").get(0).path("resource").path("name").asString()).isEqualTo("cpu");
        // A fixed count would fight the autoscaler on every upgrade.
        assertThat(r.workload("registry").path("spec").has("replicas")).isFalse();

        assertThatThrownBy(() -> Chart.render("registry.autoscaling.enabled", true, "registry.autoscaling.minReplicas", 5,
                "registry.autoscaling.maxReplicas", 2))
                .hasMessageContaining("registry.autoscaling.minReplicas (5) is above registry.autoscaling.maxReplicas (2)");
    }

    @Test
    void ingressIsOptionalAndSetsThePublicBaseUrl() {
        assertThat(defaults.environment("registry")).containsEntry("ANEFORGE_PUBLIC_BASE_URL", "");
        Chart.Rendered r = Chart.render("registry.ingress.enabled", true, "registry.ingress.className", "nginx",
                "registry.ingress.hosts[0].host", "models.acme.test",
                "registry.ingress.hosts[0].paths[0].path", "/", "registry.ingress.hosts[0].paths[0].pathType", "Prefix",
                "registry.ingress.tls[0].secretName", "models-tls", "registry.ingress.tls[0].hosts[0]", "models.acme.test");
        JsonNode ingress = r.get("Ingress", FULLNAME + "-registry");
        assertThat(ingress.path("spec").path("ingressClassName").asString()).isEqualTo("nginx");
        JsonNode rule = ingress.path("spec").path("rules").get(0);
        assertThat(rule.path("host").asString()).isEqualTo("models.acme.test");
        JsonNode backend = rule.path("http").path("paths").get(0).path("backend").path("service");
        assertThat(backend.path("name").asString()).isEqualTo(FULLNAME + "-registry");
        assertThat(backend.path("port").path("name").asString()).isEqualTo("http");
        assertThat(r.environment("registry")).containsEntry("ANEFORGE_PUBLIC_BASE_URL", "https://models.acme.test");

        assertThat(Chart.render("registry.publicBaseUrl", "https://cdn.acme.test/").environment("registry"))
                .containsEntry("ANEFORGE_PUBLIC_BASE_URL", "https://cdn.acme.test");
    }

    @Test
    void thePublicBaseUrlIsHttpsOnlyWhenTlsCoversTheHostAndNeverAWildcard() {
        Object[] ingress = {"registry.ingress.enabled", true, "registry.ingress.hosts[0].host", "models.acme.test",
                "registry.ingress.hosts[0].paths[0].path", "/", "registry.ingress.hosts[0].paths[0].pathType", "Prefix"};
        assertThat(publicBaseUrl(ingress)).isEqualTo("http://models.acme.test");
        // TLS for another host does not make this one https.
        assertThat(publicBaseUrl(ingress, "registry.ingress.tls[0].secretName", "other",
                "registry.ingress.tls[0].hosts[0]", "other.acme.test")).isEqualTo("http://models.acme.test");
        assertThat(publicBaseUrl(ingress, "registry.ingress.tls[0].secretName", "wild",
                "registry.ingress.tls[0].hosts[0]", "*.acme.test")).isEqualTo("https://models.acme.test");
        // An entry without hosts covers every host of the ingress.
        assertThat(publicBaseUrl(ingress, "registry.ingress.tls[0].secretName", "all")).isEqualTo("https://models.acme.test");

        assertThatThrownBy(() -> Chart.render("registry.ingress.enabled", true, "registry.ingress.hosts[0].host", "*.acme.test",
                "registry.ingress.hosts[0].paths[0].path", "/", "registry.ingress.hosts[0].paths[0].pathType", "Prefix"))
                .hasMessageContaining("registry.ingress.hosts[0].host is the wildcard \"*.acme.test\"")
                .hasMessageContaining("set registry.publicBaseUrl");
        assertThat(publicBaseUrl(new Object[] {"registry.ingress.enabled", true, "registry.ingress.hosts[0].host", "*.acme.test",
                "registry.ingress.hosts[0].paths[0].path", "/", "registry.ingress.hosts[0].paths[0].pathType", "Prefix"},
                "registry.publicBaseUrl", "https://models.acme.test")).isEqualTo("https://models.acme.test");
    }

    private static String publicBaseUrl(Object[] base, Object... more) {
        Object[] all = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return Chart.render(all).environment("registry").get("ANEFORGE_PUBLIC_BASE_URL");
    }

    @Test
    void valuesAreCheckedAgainstTheSchema() {
        // A misspelt key would otherwise be ignored silently and the default used.
        assertThatThrownBy(() -> Chart.render("registry.replicas", 3))
                .hasMessageContaining("values don't meet the specifications of the schema")
                .hasMessageContaining("replicas");
        assertThatThrownBy(() -> Chart.render("worker.concurrency", 0)).hasMessageContaining("concurrency");
        assertThatThrownBy(() -> Chart.render("database.url", "postgres://pg/aneforge")).hasMessageContaining("database");
        assertThatThrownBy(() -> Chart.render("registry.ingress.hosts[0].paths[0].pathType", "Regex"))
                .hasMessageContaining("pathType");
    }

    @Test
    void anEmbeddedBlobStoreIsRefusedWithMoreThanOneRegistryPod() {
        assertThatThrownBy(() -> Chart.render("s3.endpoint", ""))
                .hasMessageContaining("s3.endpoint is empty")
                .hasMessageContaining("set s3.endpoint");
        Chart.Rendered trial = Chart.render("s3.endpoint", "", "registry.replicaCount", 1);
        assertThat(trial.environment("registry")).containsEntry("ANEFORGE_S3_ENDPOINT", "");
        // One replica: a disruption budget of one would block every node drain.
        assertThat(trial.ofKind("PodDisruptionBudget")).isEmpty();
    }

    @Test
    void theWorkerUsesTheDatabaseForItsJobRepositoryAndHasScratchVolumes() {
        Map<String, String> env = defaults.environment("worker");
        assertThat(env.get("SPRING_DATASOURCE_URL")).isEqualTo(defaults.environment("registry").get("SPRING_DATASOURCE_URL"));
        assertThat(Chart.render("worker.batchDatabaseUrl", "jdbc:postgresql://pg2:5432/batch").environment("worker"))
                .containsEntry("SPRING_DATASOURCE_URL", "jdbc:postgresql://pg2:5432/batch");
        JsonNode pod = defaults.workload("worker").path("spec").path("template").path("spec");
        Map<String, String> mounts = mounts(defaults.container("worker"));
        assertThat(mounts).containsEntry(env.get("ANEFORGE_WORKER_WORK_DIR"), "work")
                .containsEntry(env.get("HF_HOME"), "hf-cache");
        assertThat(volume(pod, "hf-cache").has("emptyDir")).isTrue();

        JsonNode shared = Chart.render("worker.hfCache.existingClaim", "hf-rwx").workload("worker")
                .path("spec").path("template").path("spec");
        assertThat(volume(shared, "hf-cache").path("persistentVolumeClaim").path("claimName").asString()).isEqualTo("hf-rwx");
    }

    /**
     * The work directory (which keeps the lease releases a worker could not send) is an emptyDir by default, or a claim
     * per pod from the StatefulSet's volumeClaimTemplates, so that a replaced worker-N finds its records again.
     */
    @Test
    void theWorkDirectoryMayBeAClaimPerWorkerPod() {
        JsonNode pod = defaults.workload("worker").path("spec").path("template").path("spec");
        assertThat(volume(pod, "work").path("emptyDir").path("sizeLimit").asString()).isEqualTo("50Gi");
        assertThat(defaults.workload("worker").path("spec").has("volumeClaimTemplates")).isFalse();

        Chart.Rendered persistent = Chart.render("worker.workDir.persistence.enabled", true,
                "worker.workDir.persistence.size", "80Gi", "worker.workDir.persistence.storageClass", "fast-ssd");
        JsonNode spec = persistent.workload("worker").path("spec");
        JsonNode claim = spec.path("volumeClaimTemplates").get(0);
        assertThat(claim.path("metadata").path("name").asString()).isEqualTo("work");
        assertThat(claim.path("spec").path("accessModes").get(0).asString()).isEqualTo("ReadWriteOnce");
        assertThat(claim.path("spec").path("storageClassName").asString()).isEqualTo("fast-ssd");
        assertThat(claim.path("spec").path("resources").path("requests").path("storage").asString()).isEqualTo("80Gi");
        assertThat(claim.path("metadata").path("labels")).as("claim template labels: none that change with a chart upgrade")
                .isEqualTo(spec.path("selector").path("matchLabels"));
        boolean podVolume = false;
        for (JsonNode v : spec.path("template").path("spec").path("volumes")) {
            podVolume |= v.path("name").asString().equals("work");
        }
        assertThat(podVolume).as("the claim template, not a pod volume, provides 'work'").isFalse();
        assertThat(mounts(persistent.container("worker"))).containsEntry(
                persistent.environment("worker").get("ANEFORGE_WORKER_WORK_DIR"), "work");
        assertThat(Chart.render("worker.workDir.persistence.enabled", true).workload("worker").path("spec")
                .path("volumeClaimTemplates").get(0).path("spec").has("storageClassName"))
                .as("empty storageClass: the cluster's default").isFalse();
    }

    /** The workers' job repository under credentials of their own, which cannot touch the registry's tables. */
    @Test
    void theWorkerMayHaveADatabaseUserOfItsOwn() {
        // Opted in (Chart.render does), it shares the registry's (the chart cannot create roles), and NOTES say so.
        assertThat(defaults.environment("worker")).containsEntry("SPRING_DATASOURCE_USERNAME", "aneforge")
                .containsEntry("SPRING_DATASOURCE_PASSWORD", "secret:" + FULLNAME + "-database/password");

        Chart.Rendered own = Chart.renderAsIs("worker.batchDatabaseUrl", "jdbc:postgresql://postgresql:5432/aneforge_worker",
                "worker.batchDatabaseUsername", "aneforge_worker", "worker.batchDatabasePassword", "w0rker-pw");
        assertThat(own.environment("worker")).containsEntry("SPRING_DATASOURCE_URL", "jdbc:postgresql://postgresql:5432/aneforge_worker")
                .containsEntry("SPRING_DATASOURCE_USERNAME", "aneforge_worker")
                .containsEntry("SPRING_DATASOURCE_PASSWORD", "secret:" + FULLNAME + "-worker-database/password");
        assertThat(own.environment("registry")).containsEntry("SPRING_DATASOURCE_USERNAME", "aneforge")
                .containsEntry("SPRING_DATASOURCE_PASSWORD", "secret:" + FULLNAME + "-database/password");
        JsonNode secret = own.get("Secret", FULLNAME + "-worker-database");
        assertThat(new String(java.util.Base64.getDecoder().decode(secret.path("data").path("password").asString()),
                java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("w0rker-pw");

        Chart.Rendered managed = Chart.renderAsIs("worker.batchDatabaseUrl", "jdbc:postgresql://pg:5432/w",
                "worker.batchDatabaseUsername", "aneforge_worker",
                "worker.batchDatabaseExistingSecret", "worker-pg", "worker.batchDatabaseExistingSecretPasswordKey", "pw");
        assertThat(managed.environment("worker")).containsEntry("SPRING_DATASOURCE_PASSWORD", "secret:worker-pg/pw");
        assertThat(managed.ofKind("Secret")).noneMatch(m -> m.path("metadata").path("name").asString().endsWith("-worker-database"));

        // its own user on the registry's database would fail at start (CONNECT revoked) or write there
        assertThatThrownBy(() -> Chart.renderAsIs("worker.batchDatabaseUsername", "aneforge_worker", "worker.batchDatabasePassword", "x"))
                .hasMessageContaining("worker.batchDatabaseUsername is set without worker.batchDatabaseUrl");
        assertThatThrownBy(() -> Chart.renderAsIs("worker.batchDatabaseUrl", "jdbc:postgresql://pg:5432/w",
                "worker.batchDatabaseUsername", "aneforge_worker"))
                .hasMessageContaining("worker.batchDatabaseUsername is set without a password");
        assertThatThrownBy(() -> Chart.renderAsIs("worker.batchDatabasePassword", "x"))
                .hasMessageContaining("without worker.batchDatabaseUsername");
        assertThatThrownBy(() -> Chart.renderAsIs("worker.batchDatabaseUrl", "jdbc:postgresql://pg:5432/w",
                "worker.batchDatabaseUsername", "w", "worker.batchDatabasePassword", "x", "worker.batchDatabaseExistingSecret", "s"))
                .hasMessageContaining("worker.batchDatabasePassword and worker.batchDatabaseExistingSecret are both set");
    }

    /**
     * The chart cannot create a role, and by default a worker pod would hold credentials that can change models, tokens
     * and jobs: it refuses to render that unless the values say so.
     */
    @Test
    void workersOnTheRegistrysDatabaseCredentialsAreRefusedUnlessOptedIn() {
        assertThatThrownBy(Chart::renderAsIs)
                .hasMessageContaining("the converter workers have no database credentials of their own")
                .hasMessageContaining("set worker.batchDatabaseUrl, worker.batchDatabaseUsername and worker.batchDatabasePassword"
                        + " (or worker.batchDatabaseExistingSecret)")
                .hasMessageContaining("worker.shareRegistryDatabaseCredentials=true")
                .hasMessageContaining("docs/deploy.md");
        // Its own database alone still uses the registry's user: refused the same way.
        assertThatThrownBy(() -> Chart.renderAsIs("worker.batchDatabaseUrl", "jdbc:postgresql://pg:5432/w"))
                .hasMessageContaining("the converter workers have no database credentials of their own");

        Chart.Rendered shared = Chart.renderAsIs("worker.shareRegistryDatabaseCredentials", true);
        assertThat(shared.environment("worker")).containsEntry("SPRING_DATASOURCE_USERNAME", "aneforge")
                .containsEntry("SPRING_DATASOURCE_PASSWORD", "secret:" + FULLNAME + "-database/password");
        assertThat(Chart.notesAsIs("worker.shareRegistryDatabaseCredentials", true))
                .contains("WARNING: the converter workers use the registry's database credentials");
        assertThat(Chart.notesAsIs("worker.batchDatabaseUrl", "jdbc:postgresql://pg:5432/w",
                "worker.batchDatabaseUsername", "w", "worker.batchDatabasePassword", "x"))
                .startsWith("ANE Forge ").doesNotContain("database credentials");

        Chart.Rendered noWorkers = Chart.renderAsIs("worker.enabled", false);
        assertThat(noWorkers.ofKind("StatefulSet")).isEmpty();

        assertThatThrownBy(() -> Chart.renderAsIs("worker.shareRegistryDatabaseCredentials", true,
                "worker.batchDatabaseUrl", "jdbc:postgresql://pg:5432/w", "worker.batchDatabaseUsername", "w",
                "worker.batchDatabasePassword", "x"))
                .hasMessageContaining("worker.shareRegistryDatabaseCredentials=true and worker.batchDatabaseUsername are both set");
        assertThatThrownBy(() -> Chart.renderAsIs("worker.shareRegistryDatabaseCredentials", "yes"))
                .hasMessageContaining("shareRegistryDatabaseCredentials");
    }

    /** The helm commands README.md and docs/deploy.md show render as written (placeholders such as "…" are values). */
    @Test
    void theDocumentedHelmInstallCommandsRender() {
        List<List<String>> commands = new ArrayList<>();
        commands.addAll(helmInstallCommands(Repository.read("docs/deploy.md")));
        commands.addAll(helmInstallCommands(Repository.read("README.md")));
        assertThat(commands).as("helm install commands in docs/deploy.md and README.md").hasSizeGreaterThanOrEqualTo(3);
        int ownUsers = 0;
        for (List<String> command : commands) {
            assertThat(command.subList(0, 4)).as("%s", command).containsExactly("helm", "install", "aneforge", "helm/aneforge");
            List<Object> values = new ArrayList<>();
            for (int i = 4; i < command.size(); i++) {
                String arg = command.get(i);
                if (arg.equals("--set")) {
                    String[] kv = command.get(++i).split("=", 2);
                    values.add(kv[0]);
                    values.add(kv[1]);
                } else if (arg.equals("-n")) {
                    i++;
                } else {
                    assertThat(arg).as("%s", command).isIn("--create-namespace");
                }
            }
            Chart.Rendered r = Chart.renderReleaseAsIs("aneforge", values.toArray());
            assertThat(names(r, "StatefulSet")).as("%s", command).containsExactly("aneforge-worker");
            int own = values.indexOf("worker.batchDatabaseUsername");
            if (own >= 0) {
                assertThat(r.configMap("aneforge-worker")).as("%s", command)
                        .containsEntry("SPRING_DATASOURCE_USERNAME", (String) values.get(own + 1));
            }
            ownUsers += own >= 0 ? 1 : 0;
        }
        assertThat(ownUsers).as("commands giving the workers their own database user").isPositive();
    }

    /** Each {@code helm install} command line of a Markdown text (continued lines joined), split as a shell would. */
    private static List<List<String>> helmInstallCommands(String markdown) {
        List<List<String>> out = new ArrayList<>();
        String[] lines = markdown.split("\n");
        for (int i = 0; i < lines.length; i++) {
            if (!lines[i].startsWith("helm install ")) {
                continue;
            }
            StringBuilder line = new StringBuilder();
            String part = lines[i];
            while (part.endsWith("\\") && i + 1 < lines.length) {
                line.append(part, 0, part.length() - 1);
                part = lines[++i];
            }
            line.append(part.replaceAll("\\s+#.*$", "")); // a trailing comment
            List<String> words = new ArrayList<>();
            java.util.regex.Matcher m = Pattern.compile("'([^']*)'|\"([^\"]*)\"|(\\S+)").matcher(line);
            while (m.find()) {
                words.add(m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3));
            }
            out.add(words);
        }
        return out;
    }

    /**
     * The agent's cache directory keeps the lease releases it could not send: an emptyDir in a Deployment by default,
     * or a claim per pod from a StatefulSet, so that a replaced agent-N (same host name, same agent id) finds them.
     */
    @Test
    void theAgentCacheMayBeAClaimPerAgentPodInAStatefulSet() {
        Chart.Rendered ephemeral = Chart.render("agent.enabled", true, "agent.replicaCount", 2);
        JsonNode deployment = ephemeral.get("Deployment", FULLNAME + "-agent");
        assertThat(ephemeral.has("StatefulSet", FULLNAME + "-agent")).isFalse();
        assertThat(ephemeral.has("Service", FULLNAME + "-agent")).isFalse();
        JsonNode ephemeralPod = deployment.path("spec").path("template");
        assertThat(volume(ephemeralPod.path("spec"), "cache").path("emptyDir").path("sizeLimit").asString()).isEqualTo("12Gi");

        Chart.Rendered persistent = Chart.render("agent.enabled", true, "agent.replicaCount", 2,
                "agent.cache.persistence.enabled", true, "agent.cache.persistence.size", "40Gi",
                "agent.cache.persistence.storageClass", "fast-ssd");
        assertThat(persistent.has("Deployment", FULLNAME + "-agent")).isFalse();
        JsonNode sts = persistent.get("StatefulSet", FULLNAME + "-agent");
        JsonNode spec = sts.path("spec");
        assertThat(spec.path("replicas").asInt()).isEqualTo(2);
        assertThat(spec.path("podManagementPolicy").asString()).isEqualTo("Parallel");
        assertThat(spec.path("selector")).isEqualTo(deployment.path("spec").path("selector"));
        JsonNode claim = spec.path("volumeClaimTemplates").get(0);
        assertThat(spec.path("volumeClaimTemplates").size()).isEqualTo(1);
        assertThat(claim.path("metadata").path("name").asString()).isEqualTo("cache");
        assertThat(claim.path("spec").path("accessModes").get(0).asString()).isEqualTo("ReadWriteOnce");
        assertThat(claim.path("spec").path("storageClassName").asString()).isEqualTo("fast-ssd");
        assertThat(claim.path("spec").path("resources").path("requests").path("storage").asString()).isEqualTo("40Gi");
        // A StatefulSet's claim templates are immutable: labels carrying the chart or app version would fail upgrades.
        assertThat(claim.path("metadata").path("labels")).isEqualTo(spec.path("selector").path("matchLabels"));
        assertThat(mounts(persistent.container("agent")))
                .containsEntry(persistent.environment("agent").get("ANEFORGE_AGENT_CACHE_DIR"), "cache");

        // The same pod but for the cache volume, which the claim template provides.
        JsonNode pod = spec.path("template");
        List<String> podVolumes = new ArrayList<>();
        pod.path("spec").path("volumes").forEach(v -> podVolumes.add(v.path("name").asString()));
        assertThat(podVolumes).containsExactly("tmp");
        tools.jackson.databind.node.ObjectNode withoutVolumes = ((tools.jackson.databind.node.ObjectNode) pod.deepCopy());
        tools.jackson.databind.node.ObjectNode ephemeralWithoutVolumes = ((tools.jackson.databind.node.ObjectNode) ephemeralPod.deepCopy());
        ((tools.jackson.databind.node.ObjectNode) withoutVolumes.path("spec")).remove("volumes");
        ((tools.jackson.databind.node.ObjectNode) ephemeralWithoutVolumes.path("spec")).remove("volumes");
        assertThat(withoutVolumes).isEqualTo(ephemeralWithoutVolumes);

        // The governing Service: headless, selecting the agent pods only; nothing connects to an agent.
        JsonNode governing = persistent.get("Service", spec.path("serviceName").asString());
        assertThat(governing.path("spec").path("clusterIP").asString()).isEqualTo("None");
        assertThat(governing.path("spec").has("ports")).isFalse();
        assertThat(governing.path("spec").path("selector")).isEqualTo(spec.path("selector").path("matchLabels"));

        assertThat(Chart.render("agent.enabled", true, "agent.cache.persistence.enabled", true).get("StatefulSet", FULLNAME + "-agent")
                .path("spec").path("volumeClaimTemplates").get(0).path("spec").has("storageClassName"))
                .as("empty storageClass: the cluster's default").isFalse();
        // Persistence without agents renders no agent at all.
        Chart.Rendered off = Chart.render("agent.cache.persistence.enabled", true);
        assertThat(off.has("StatefulSet", FULLNAME + "-agent")).isFalse();
        assertThat(off.has("Service", FULLNAME + "-agent")).isFalse();
    }

    /**
     * Pod names repeat in every namespace (and cluster) that installs the chart under one release name, and the
     * registry knows a host by its name: the agents register as [cluster.]namespace.pod instead.
     */
    @Test
    void agentsRegisterUnderANameOfTheirNamespaceAndCluster() {
        for (boolean persistent : new boolean[] {false, true}) {
            Map<String, String> env = Chart.render("agent.enabled", true, "agent.cache.persistence.enabled", persistent)
                    .environment("agent");
            assertThat(env).containsEntry("POD_NAMESPACE", "field:metadata.namespace")
                    .containsEntry("POD_NAME", "field:metadata.name")
                    .containsEntry("ANEFORGE_AGENT_HOST_NAME", "$(POD_NAMESPACE).$(POD_NAME)");
            // Kubernetes expands $(VAR) only from variables defined before it in the list.
            List<String> order = new ArrayList<>(env.keySet());
            assertThat(order.indexOf("ANEFORGE_AGENT_HOST_NAME")).isGreaterThan(order.indexOf("POD_NAMESPACE"))
                    .isGreaterThan(order.indexOf("POD_NAME"));
        }
        assertThat(SpringApp.AGENT.knows("ANEFORGE_AGENT_HOST_NAME")).isTrue();
        assertThat(Chart.render("agent.enabled", true, "agent.clusterName", "eu-1").environment("agent"))
                .containsEntry("ANEFORGE_AGENT_HOST_NAME", "eu-1.$(POD_NAMESPACE).$(POD_NAME)");
        assertThatThrownBy(() -> Chart.render("agent.enabled", true, "agent.clusterName", "EU_1"))
                .hasMessageContaining("clusterName");
    }

    /** What helm prints after an install: the warnings and the agents' handover hint appear exactly when they apply. */
    @Test
    void notesWarnAboutSharedCredentialsAndTheAgentsHandover() {
        String ownToken = "agent-token-4711";
        String agents = Chart.notesAsIs("worker.enabled", false, "agent.enabled", true);
        assertThat(agents).contains("WARNING: the device agents use the admin token")
                .doesNotContain("keep their names").doesNotContain("converter workers");
        String persistent = Chart.notesAsIs("worker.enabled", false, "agent.enabled", true,
                "agent.cache.persistence.enabled", true);
        assertThat(persistent).contains("WARNING: the device agents use the admin token")
                .contains("The agent pods keep their names, hence their host names and agent ids")
                .contains("PUT /api/v1/agents/{id}/token");
        assertThat(Chart.notesAsIs("worker.enabled", false, "agent.enabled", true, "agent.cache.persistence.enabled", true,
                "tokens.agent", ownToken)).doesNotContain("WARNING: the device agents").doesNotContain("keep their names");
        assertThat(Chart.notesAsIs("worker.enabled", false, "agent.cache.persistence.enabled", true))
                .as("no agents, no agent notes").doesNotContain("device agents").doesNotContain("keep their names");
        assertThat(Chart.notesAsIs("worker.enabled", false, "agent.enabled", true, "agent.cache.persistence.enabled", true,
                "tokens.existingSecret", "my-tokens")).doesNotContain("Admin token:").doesNotContain("keep their names");
    }

    @Test
    void aReleaseNameTooLongForTheAgentStatefulSetIsRefused() {
        String longest = "r".repeat(52 - "-aneforge-agent".length());
        Object[] agentsOnly = {"worker.enabled", false, "agent.enabled", true, "agent.cache.persistence.enabled", true};
        assertThat(Chart.renderRelease(longest, null, agentsOnly).get("StatefulSet", longest + "-aneforge-agent")
                .path("metadata").path("name").asString()).hasSize(52);
        assertThatThrownBy(() -> Chart.renderRelease(longest + "r", null, agentsOnly))
                .hasMessageContaining("the agent StatefulSet would be named")
                .hasMessageContaining("(53 characters)")
                .hasMessageContaining("fullnameOverride (at most 46 characters)");
        // A Deployment's name has no such limit here.
        assertThat(Chart.renderRelease(longest + "r", null, "worker.enabled", false, "agent.enabled", true)
                .ofKind("Deployment")).hasSize(2);
    }

    @Test
    void workersKeepTheirIdAcrossPodReplacement() {
        // The worker resumes its own STARTED executions after a crash, found by ANEFORGE_WORKER_ID.
        JsonNode worker = defaults.workload("worker");
        assertThat(worker.path("kind").asString()).isEqualTo("StatefulSet");
        assertThat(worker.path("spec").path("podManagementPolicy").asString()).isEqualTo("Parallel");
        assertThat(defaults.environment("worker")).containsEntry("ANEFORGE_WORKER_ID", "field:metadata.name");
        assertThat(SpringApp.WORKER.knows("ANEFORGE_WORKER_ID")).isTrue();
        JsonNode governing = defaults.get("Service", worker.path("spec").path("serviceName").asString());
        assertThat(governing.path("spec").path("clusterIP").asString()).isEqualTo("None");
        assertThat(governing.path("spec").path("selector").path("app.kubernetes.io/component").asString()).isEqualTo("worker");
    }

    /** No web server: the agent's liveness is the age of the file the image names, in the /tmp emptyDir. */
    @Test
    void agentLivenessIsTheAgeOfItsLivenessFile() {
        JsonNode container = Chart.render("agent.enabled", true).container("agent");
        String file = Dockerfile.of("device-agent").env().get("ANEFORGE_AGENT_LIVENESS_FILE");
        JsonNode probe = container.path("livenessProbe");
        List<String> command = new java.util.ArrayList<>();
        probe.path("exec").path("command").forEach(c -> command.add(c.asString()));
        assertThat(String.join(" ", command)).startsWith("sh -c test -n").contains("find " + file + " -mmin -5");
        // Probed every minute, restarted after two misses: never while calls return (at least every lease wait).
        assertThat(probe.path("periodSeconds").asInt() * probe.path("failureThreshold").asInt()).isGreaterThanOrEqualTo(60);
        boolean tmpMounted = false;
        for (JsonNode mount : container.path("volumeMounts")) {
            tmpMounted |= file.startsWith(mount.path("mountPath").asString() + "/");
        }
        assertThat(tmpMounted).as("the liveness file's directory is a writable volume").isTrue();
    }

    @Test
    void agentsGetTimeToDrainTheJobInHand() {
        Chart.Rendered r = Chart.render("agent.enabled", true, "agent.drainTimeoutSeconds", 300);
        assertThat(r.environment("agent")).containsEntry("ANEFORGE_AGENT_DRAIN_TIMEOUT", "300s");
        assertThat(r.workload("agent").path("spec").path("template").path("spec").path("terminationGracePeriodSeconds").asInt())
                .isEqualTo(330);
    }

    @Test
    void workerProbesHitItsActuatorPort() {
        JsonNode container = defaults.container("worker");
        JsonNode port = container.path("ports").get(0);
        assertThat(port.path("name").asString()).isEqualTo("http");
        assertThat(port.path("containerPort").asInt()).isEqualTo(SpringApp.WORKER.serverPort());
        assertThat(defaults.environment("worker")).containsEntry("SERVER_PORT", String.valueOf(SpringApp.WORKER.serverPort()))
                .doesNotContainKey("MANAGEMENT_ENDPOINT_HEALTH_PROBES_ENABLED");
        // /actuator/health/liveness outside Kubernetes' auto-detection: enabled in the worker's application.yml.
        assertThat(SpringApp.WORKER.effective("management.endpoint.health.probes.enabled", defaults.environment("worker")))
                .isEqualTo("true");
        for (String probe : List.of("startupProbe", "livenessProbe")) {
            assertThat(container.path(probe).path("httpGet").path("path").asString()).as(probe).isEqualTo("/actuator/health/liveness");
            assertThat(container.path(probe).path("httpGet").path("port").asString()).as(probe).isEqualTo("http");
        }
        // Readiness reports whether the worker can lease (a refused ANEFORGE_WORKER_TOKEN makes it DOWN).
        assertThat(container.path("readinessProbe").path("httpGet").path("path").asString())
                .isEqualTo("/actuator/health/readiness");
        assertThat(container.path("readinessProbe").path("httpGet").path("port").asString()).isEqualTo("http");
        assertThat(SpringApp.WORKER.effective("management.endpoint.health.group.readiness.include",
                defaults.environment("worker")).split(",")).contains("readinessState", "registry");
        assertThat(SpringApp.WORKER.servesHttp()).isTrue();
        assertThat(SpringApp.WORKER.exposesHealth()).isTrue();
    }

    @Test
    void podsAreLockedDownAndBounded() {
        for (String component : List.of("registry", "worker", "agent")) {
            JsonNode pod = withSecrets.workload(component).path("spec").path("template").path("spec");
            JsonNode container = withSecrets.container(component);
            assertThat(pod.path("securityContext").path("runAsNonRoot").asBoolean()).as(component).isTrue();
            assertThat(pod.path("securityContext").path("runAsUser").asInt()).as("%s: the images' user", component)
                    .isEqualTo(10001);
            assertThat(pod.path("automountServiceAccountToken").asBoolean(true)).as(component).isFalse();
            assertThat(container.path("securityContext").path("readOnlyRootFilesystem").asBoolean()).as(component).isTrue();
            assertThat(container.path("securityContext").path("allowPrivilegeEscalation").asBoolean(true)).as(component).isFalse();
            assertThat(container.path("resources").path("limits").path("memory").asString()).as(component).isNotEmpty();
            assertThat(container.path("resources").path("requests").path("cpu").asString()).as(component).isNotEmpty();
            // Read-only root: the JVM, JNA and Tomcat need a writable /tmp.
            assertThat(mounts(container)).as(component).containsEntry("/tmp", "tmp");
        }
    }

    @Test
    void changedConfigurationRollsThePods() {
        String before = checksum(defaults, "registry", "checksum/config");
        String after = checksum(Chart.render("registry.cacheTtl", "1s"), "registry", "checksum/config");
        assertThat(after).isNotEqualTo(before);
        assertThat(checksum(Chart.render("registry.cacheTtl", "1s"), "worker", "checksum/config"))
                .isEqualTo(checksum(defaults, "worker", "checksum/config"));
        assertThat(checksum(Chart.render(SECRET_VALUES), "registry", "checksum/secrets"))
                .isNotEqualTo(checksum(Chart.render("tokens.admin", "x"), "registry", "checksum/secrets"));
    }

    @Test
    void aDisruptionBudgetNeverBlocksEveryDrain() {
        // Autoscaling down to one pod: minAvailable 1 would leave nothing to evict.
        assertThat(Chart.render("registry.autoscaling.enabled", true, "registry.autoscaling.minReplicas", 1)
                .ofKind("PodDisruptionBudget")).isEmpty();
        assertThat(Chart.render("registry.autoscaling.enabled", true, "registry.autoscaling.minReplicas", 2)
                .ofKind("PodDisruptionBudget")).hasSize(1);
        assertThat(Chart.render("registry.replicaCount", 4, "registry.podDisruptionBudget.minAvailable", "50%")
                .ofKind("PodDisruptionBudget")).hasSize(1);
        assertThatThrownBy(() -> Chart.render("registry.podDisruptionBudget.minAvailable", 2))
                .hasMessageContaining("registry.podDisruptionBudget.minAvailable (2) would keep all 2 registry pods up");
        assertThatThrownBy(() -> Chart.render("registry.podDisruptionBudget.minAvailable", "100%"))
                .hasMessageContaining("lower it below 2");
    }

    @Test
    void aRolloutThatCanNeitherAddNorRemoveAPodIsRefused() {
        assertThatThrownBy(() -> Chart.render("registry.maxSurge", 0, "registry.maxUnavailable", 0))
                .hasMessageContaining("registry.maxSurge and registry.maxUnavailable are both 0");
        assertThatThrownBy(() -> Chart.render("registry.maxSurge", "0%", "registry.maxUnavailable", 0))
                .hasMessageContaining("are both 0");
        JsonNode rolling = Chart.render("registry.maxSurge", 0, "registry.maxUnavailable", 1).workload("registry")
                .path("spec").path("strategy").path("rollingUpdate");
        assertThat(rolling.path("maxUnavailable").asInt()).isEqualTo(1);
    }

    @Test
    void aReleaseNameTooLongForTheWorkerStatefulSetIsRefused() {
        // The StatefulSet's name plus "-" and a 10-character hash is its pods' controller-revision-hash label (<= 63).
        String longest = "r".repeat(52 - "-aneforge-worker".length());
        JsonNode sts = Chart.renderRelease(longest, null).get("StatefulSet", longest + "-aneforge-worker");
        assertThat(sts.path("metadata").path("name").asString()).hasSize(52);
        assertThatThrownBy(() -> Chart.renderRelease(longest + "r", null))
                .hasMessageContaining("(53 characters)")
                .hasMessageContaining("use a shorter release name, or set fullnameOverride");
        assertThat(Chart.renderRelease(longest + "r", null, "worker.enabled", false).ofKind("StatefulSet")).isEmpty();
        assertThatThrownBy(() -> Chart.render("fullnameOverride", "f".repeat(46))).hasMessageContaining("at most 52");
    }

    @Test
    void theWorkerGracePeriodCoversItsLeaseHandBack() {
        // The worker waits up to 20 s for its job to record itself and hand the lease back (docs/pipeline.md);
        // the pod gets as long as compose gives the container.
        JsonNode pod = defaults.workload("worker").path("spec").path("template").path("spec");
        int grace = pod.path("terminationGracePeriodSeconds").asInt();
        assertThat(grace).isGreaterThan(20);
        assertThat(ComposeFile.load().service("converter-worker").path("stop_grace_period").asString())
                .isEqualTo(grace + "s");
        assertThat(Repository.read("helm/aneforge/templates/worker-statefulset.yaml"))
                .doesNotContain("after its lease expires");
    }

    @Test
    void theGeneratedAdminTokenIsReadBackFromTheClusterSoReinstallsKeepIt() {
        // A previous install left the Secret (resource-policy keep survives helm uninstall); an upgrade or a
        // reinstall with the same name adopts it, so it must come out with the stored value, not a new one.
        String name = FULLNAME + "-admin-token";
        FakeKubeApi cluster = FakeKubeApi.get();
        cluster.putSecret(Chart.NAMESPACE, name, Map.of("admin-token", "kept-token-from-the-first-install"));
        try {
            Chart.Rendered again = Chart.render();
            assertThat(again.secret(name)).containsEntry("admin-token", "kept-token-from-the-first-install");
            assertThat(again.get("Secret", name).path("metadata").path("annotations").path("helm.sh/resource-policy")
                    .asString()).isEqualTo("keep");
        } finally {
            cluster.removeSecret(Chart.NAMESPACE, name);
        }
        // Without one (a first install, or `helm template`), a new random token.
        assertThat(Chart.render().secret(name).get("admin-token")).matches("[A-Za-z0-9]{48}")
                .isNotEqualTo(defaults.secret(name).get("admin-token"));
    }

    @Test
    void theRolloutStartsANewPodBeforeStoppingAnOldOne() {
        // The new pod runs Flyway first; the old ones keep serving until it is ready.
        JsonNode rolling = defaults.workload("registry").path("spec").path("strategy").path("rollingUpdate");
        assertThat(rolling.path("maxSurge").asInt()).isEqualTo(1);
        assertThat(rolling.path("maxUnavailable").asInt()).isZero();
    }

    private static String checksum(Chart.Rendered r, String component, String annotation) {
        return r.workload(component).path("spec").path("template").path("metadata").path("annotations")
                .path(annotation).asString();
    }

    private static List<String> names(Chart.Rendered r, String kind) {
        return r.ofKind(kind).stream().map(m -> m.path("metadata").path("name").asString()).toList();
    }

    private static Map<String, String> mounts(JsonNode container) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        container.path("volumeMounts").forEach(m -> out.put(m.path("mountPath").asString(), m.path("name").asString()));
        return out;
    }

    private static JsonNode volume(JsonNode pod, String name) {
        for (JsonNode v : pod.path("volumes")) {
            if (name.equals(v.path("name").asString())) {
                return v;
            }
        }
        throw new AssertionError("no volume " + name + " in " + pod.path("volumes"));
    }
}
