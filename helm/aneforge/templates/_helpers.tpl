{{/*
Chart name, truncated to the 63 characters a DNS label allows.
*/}}
{{- define "aneforge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified release name: <release>-aneforge, or <release> when it already contains the chart name.
*/}}
{{- define "aneforge.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Name of one component's resources: <fullname>-<component>. Call with (dict "root" $ "component" "registry").
*/}}
{{- define "aneforge.componentName" -}}
{{- printf "%s-%s" (include "aneforge.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every resource. Call with (dict "root" $ "component" "registry").
*/}}
{{- define "aneforge.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "aneforge.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: aneforge
{{- end }}

{{/*
Selector labels: stable across upgrades (a Deployment's selector is immutable).
*/}}
{{- define "aneforge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aneforge.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
Image reference: [image.registry/]repository:tag, the tag falling back to image.tag, then appVersion.
Call with (dict "root" $ "image" .Values.registry.image).
*/}}
{{- define "aneforge.image" -}}
{{- $tag := .image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- if .root.Values.image.registry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" .root.Values.image.registry) .image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end -}}
{{- end }}

{{/*
Secret names: the chart's own, or the one the user manages (existingSecret).
*/}}
{{- define "aneforge.databaseSecretName" -}}
{{- .Values.database.existingSecret | default (include "aneforge.componentName" (dict "root" . "component" "database")) }}
{{- end }}

{{- define "aneforge.databasePasswordKey" -}}
{{- if .Values.database.existingSecret }}{{ .Values.database.existingSecretPasswordKey }}{{ else }}password{{ end }}
{{- end }}

{{- /* The workers' job-repository credentials: their own (worker.batchDatabaseUsername set) or the registry's. */}}
{{- define "aneforge.workerDatabaseSecretName" -}}
{{- if not .Values.worker.batchDatabaseUsername }}{{ include "aneforge.databaseSecretName" . }}
{{- else }}{{ .Values.worker.batchDatabaseExistingSecret | default (include "aneforge.componentName" (dict "root" . "component" "worker-database")) }}
{{- end }}
{{- end }}

{{- define "aneforge.workerDatabasePasswordKey" -}}
{{- if not .Values.worker.batchDatabaseUsername }}{{ include "aneforge.databasePasswordKey" . }}
{{- else if .Values.worker.batchDatabaseExistingSecret }}{{ .Values.worker.batchDatabaseExistingSecretPasswordKey }}
{{- else }}password{{ end }}
{{- end }}

{{- define "aneforge.s3SecretName" -}}
{{- .Values.s3.existingSecret | default (include "aneforge.componentName" (dict "root" . "component" "s3")) }}
{{- end }}

{{- define "aneforge.s3AccessKeyKey" -}}
{{- if .Values.s3.existingSecret }}{{ .Values.s3.existingSecretAccessKeyKey }}{{ else }}access-key{{ end }}
{{- end }}

{{- define "aneforge.s3SecretKeyKey" -}}
{{- if .Values.s3.existingSecret }}{{ .Values.s3.existingSecretSecretKeyKey }}{{ else }}secret-key{{ end }}
{{- end }}

{{- define "aneforge.tokensSecretName" -}}
{{- .Values.tokens.existingSecret | default (include "aneforge.componentName" (dict "root" . "component" "tokens")) }}
{{- end }}

{{/*
Where the admin token is: the tokens Secret (existingSecret or tokens.admin), else the generated one.
*/}}
{{- define "aneforge.adminTokenSecretName" -}}
{{- if or .Values.tokens.existingSecret .Values.tokens.admin }}
{{- include "aneforge.tokensSecretName" . }}
{{- else }}
{{- include "aneforge.componentName" (dict "root" . "component" "admin-token") }}
{{- end }}
{{- end }}

{{/*
secretKeyRef of the worker's / agent's token: its own key, or the admin token when the chart
renders the Secret and no dedicated token was given (so a first install works unconfigured).
*/}}
{{- define "aneforge.workerTokenRef" -}}
{{- if or .Values.tokens.existingSecret .Values.tokens.worker -}}
name: {{ include "aneforge.tokensSecretName" . }}
key: worker-token
{{- else -}}
name: {{ include "aneforge.adminTokenSecretName" . }}
key: admin-token
{{- end }}
{{- end }}

{{- define "aneforge.agentTokenRef" -}}
{{- if or .Values.tokens.existingSecret .Values.tokens.agent -}}
name: {{ include "aneforge.tokensSecretName" . }}
key: agent-token
{{- else -}}
name: {{ include "aneforge.adminTokenSecretName" . }}
key: admin-token
{{- end }}
{{- end }}

{{/*
In-cluster base URL of the registry, for the workers and agents.
*/}}
{{- define "aneforge.registryUrl" -}}
{{- printf "http://%s:%v" (include "aneforge.componentName" (dict "root" . "component" "registry")) .Values.registry.service.port }}
{{- end }}

{{/*
Public base URL for download links in resolve answers (apps outside the cluster; agents get
path-absolute URLs and use their own registry URL): registry.publicBaseUrl, else the first ingress
host, https when a tls entry covers that host (an entry without hosts covers every host). A wildcard
host names no URL, so it needs registry.publicBaseUrl (checked in aneforge.validate).
*/}}
{{- define "aneforge.publicBaseUrl" -}}
{{- if .Values.registry.publicBaseUrl }}
{{- .Values.registry.publicBaseUrl | trimSuffix "/" }}
{{- else if and .Values.registry.ingress.enabled .Values.registry.ingress.hosts }}
{{- $host := (first .Values.registry.ingress.hosts).host }}
{{- $tls := false }}
{{- range .Values.registry.ingress.tls }}
{{- if not .hosts }}
{{- $tls = true }}
{{- end }}
{{- range .hosts }}
{{- if or (eq . $host) (and (hasPrefix "*." .) (hasSuffix (trimPrefix "*" .) $host) (not (contains "." (trimSuffix (trimPrefix "*" .) $host)))) }}
{{- $tls = true }}
{{- end }}
{{- end }}
{{- end }}
{{- printf "%s://%s" (ternary "https" "http" $tls) $host }}
{{- end }}
{{- end }}

{{/*
One extra environment value as a ConfigMap string. Values files give every number as a float, which
would print as 4.294967296e+09; whole numbers print as integers, everything else as written.
*/}}
{{- define "aneforge.envValue" -}}
{{- if and (kindIs "float64" .) (eq . (floor .)) (lt (float64 .) 9.007199254740992e15) (gt (float64 .) -9.007199254740992e15) }}
{{- printf "%d" (int64 .) }}
{{- else }}
{{- toString . }}
{{- end }}
{{- end }}

{{/*
The extra env of one component (values <component>.env) as ConfigMap entries. Call with
(dict "root" $ "component" "registry"). Keys the chart sets itself are refused in aneforge.validate,
so each key appears once.
*/}}
{{- define "aneforge.extraEnv" -}}
{{- range $key, $value := (index .root.Values .component).env }}
{{ $key }}: {{ include "aneforge.envValue" $value | quote }}
{{- end }}
{{- end }}

{{/*
Variables each component's pods get from the chart, with the value that sets them ("" for wiring the
chart owns: mount paths, in-cluster URLs, the pod name). <component>.env may not set them again.
*/}}
{{- define "aneforge.chartEnv" -}}
registry:
  SERVER_PORT: registry.port
  SPRING_DATASOURCE_URL: database.url
  SPRING_DATASOURCE_USERNAME: database.username
  ANEFORGE_S3_ENDPOINT: s3.endpoint
  ANEFORGE_S3_BUCKET: s3.bucket
  ANEFORGE_S3_REGION: s3.region
  ANEFORGE_PUBLIC_BASE_URL: registry.publicBaseUrl
  ANEFORGE_CACHE_TTL: registry.cacheTtl
  ANEFORGE_DOWNLOAD_URL_TTL: registry.downloadUrlTtl
  ANEFORGE_TOKENS_PUBLISHER_MODELS_REQUIRED: registry.tokens.publisherModelsRequired
  ANEFORGE_DOWNLOAD_SIGNING_KEY: tokens.downloadSigningKey
  ANEFORGE_DOWNLOAD_SIGNING_KEY_PREVIOUS: tokens.downloadSigningKeyPrevious
  ANEFORGE_SOURCES_LOCAL_ROOTS: sources.localRoots
  ANEFORGE_DATA_DIR: ""
worker:
  SERVER_PORT: worker.port
  SPRING_DATASOURCE_URL: worker.batchDatabaseUrl
  SPRING_DATASOURCE_USERNAME: worker.batchDatabaseUsername
  ANEFORGE_REGISTRY_URL: ""
  ANEFORGE_WORKER_CONCURRENCY: worker.concurrency
  ANEFORGE_WORKER_WORK_DIR: ""
  ANEFORGE_WORKER_ID: ""
  ANEFORGE_SOURCES_LOCAL_ROOTS: sources.localRoots
  HF_ENDPOINT: worker.hfEndpoint
  HF_HOME: ""
  DJL_CACHE_DIR: ""
agent:
  ANEFORGE_AGENT_REGISTRY_URL: ""
  ANEFORGE_AGENT_RUNTIMES: agent.runtimes
  ANEFORGE_AGENT_POLL_INTERVAL: agent.pollInterval
  ANEFORGE_AGENT_CACHE_DIR: ""
  ANEFORGE_AGENT_CACHE_MAX_SIZE: agent.cache.maxSize
  ANEFORGE_AGENT_DRAIN_TIMEOUT: agent.drainTimeoutSeconds
  ANEFORGE_AGENT_LIVENESS_FILE: ""
  ANEFORGE_AGENT_HOST_NAME: agent.clusterName
  POD_NAME: ""
  POD_NAMESPACE: ""
{{- end }}

{{/*
A zero maxSurge/maxUnavailable: 0, "0" or "0%".
*/}}
{{- define "aneforge.isZero" -}}
{{- if has (toString .) (list "0" "0%") }}true{{ end }}
{{- end }}

{{/*
Pod and container security settings shared by every component: the images run as uid 10001.
*/}}
{{- define "aneforge.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "aneforge.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end }}

{{/*
Refuses value combinations that would deploy something broken, with the value to change.
Included from every template, so `helm template` and `helm install` fail before anything is applied.
*/}}
{{- define "aneforge.validate" -}}
{{- $r := .Values.registry }}
{{- if and (not .Values.s3.endpoint) (or (gt (int $r.replicaCount) 1) $r.autoscaling.enabled) }}
{{- fail "s3.endpoint is empty, so every registry pod would keep blobs in its own embedded store and replicas would not see each other's uploads: set s3.endpoint to your MinIO/S3 URL, or use registry.replicaCount=1 with registry.autoscaling.enabled=false for a trial" }}
{{- end }}
{{- if and $r.autoscaling.enabled (gt (int $r.autoscaling.minReplicas) (int $r.autoscaling.maxReplicas)) }}
{{- fail (printf "registry.autoscaling.minReplicas (%v) is above registry.autoscaling.maxReplicas (%v): lower minReplicas or raise maxReplicas" $r.autoscaling.minReplicas $r.autoscaling.maxReplicas) }}
{{- end }}
{{- if and .Values.database.existingSecret .Values.database.password }}
{{- fail "database.password and database.existingSecret are both set: keep the password in the existing Secret and leave database.password empty" }}
{{- end }}
{{- if and .Values.tokens.downloadSigningKeyPrevious (not .Values.tokens.downloadSigningKey) }}
{{- fail "tokens.downloadSigningKeyPrevious is set without tokens.downloadSigningKey: the previous key only accepts URLs minted before a rotation; set the current key too" }}
{{- end }}
{{- $w := .Values.worker }}
{{- if and (or $w.batchDatabasePassword $w.batchDatabaseExistingSecret) (not $w.batchDatabaseUsername) }}
{{- fail "worker.batchDatabasePassword/batchDatabaseExistingSecret are set without worker.batchDatabaseUsername: set the workers' own database user too (docs/deploy.md, \"The worker's database\"), or leave all three empty to use database.*" }}
{{- end }}
{{- if and $w.batchDatabaseUsername (not $w.batchDatabaseUrl) }}
{{- fail "worker.batchDatabaseUsername is set without worker.batchDatabaseUrl: the workers' own user belongs with their own database (docs/deploy.md, \"The worker's database\"); set worker.batchDatabaseUrl, e.g. jdbc:postgresql://postgresql:5432/aneforge_worker" }}
{{- end }}
{{- if and $w.batchDatabaseUsername (not (or $w.batchDatabasePassword $w.batchDatabaseExistingSecret)) }}
{{- fail "worker.batchDatabaseUsername is set without a password: set worker.batchDatabasePassword or worker.batchDatabaseExistingSecret" }}
{{- end }}
{{- if and $w.enabled (not $w.batchDatabaseUsername) (not $w.shareRegistryDatabaseCredentials) }}
{{- fail "the converter workers have no database credentials of their own, so they would use the registry's (database.*), which can read and change models, tokens and jobs: create a role and database for them (docs/deploy.md, \"The worker's database\") and set worker.batchDatabaseUrl, worker.batchDatabaseUsername and worker.batchDatabasePassword (or worker.batchDatabaseExistingSecret); or accept the shared credentials with worker.shareRegistryDatabaseCredentials=true (a trial); or set worker.enabled=false" }}
{{- end }}
{{- if and $w.shareRegistryDatabaseCredentials $w.batchDatabaseUsername }}
{{- fail "worker.shareRegistryDatabaseCredentials=true and worker.batchDatabaseUsername are both set: the workers use their own user; remove worker.shareRegistryDatabaseCredentials" }}
{{- end }}
{{- if and $w.batchDatabasePassword $w.batchDatabaseExistingSecret }}
{{- fail "worker.batchDatabasePassword and worker.batchDatabaseExistingSecret are both set: keep the password in the existing Secret and leave worker.batchDatabasePassword empty" }}
{{- end }}
{{- if and .Values.s3.existingSecret (or .Values.s3.accessKey .Values.s3.secretKey) }}
{{- fail "s3.accessKey/s3.secretKey and s3.existingSecret are both set: keep the keys in the existing Secret and leave s3.accessKey and s3.secretKey empty" }}
{{- end }}
{{- if and .Values.tokens.existingSecret (or .Values.tokens.admin .Values.tokens.worker .Values.tokens.agent .Values.tokens.huggingFace .Values.tokens.workerMetrics .Values.tokens.downloadSigningKey .Values.tokens.downloadSigningKeyPrevious) }}
{{- fail "tokens.existingSecret is set together with tokens.admin/worker/agent/huggingFace/workerMetrics/downloadSigningKey/downloadSigningKeyPrevious: keep the tokens in the existing Secret and leave those values empty" }}
{{- end }}
{{- $chartEnv := include "aneforge.chartEnv" . | fromYaml }}
{{- range $component := list "registry" "worker" "agent" }}
{{- range $key, $value := (index $.Values $component).env }}
{{- $own := index $chartEnv $component }}
{{- /* A variable the chart sets from a value is named first: ANEFORGE_TOKENS_PUBLISHER_MODELS_REQUIRED looks like a
       secret by its name, and "set registry.tokens.publisherModelsRequired instead" is the fix, not "use a Secret". */}}
{{- if and (regexMatch "(?i)(PASSWORD|SECRET|TOKEN|ACCESS_KEY|CREDENTIAL)" $key) (not (index $own $key)) }}
{{- fail (printf "%s.env.%s looks like a secret, and %s.env is rendered into a ConfigMap: put it in a Secret (database.*, s3.*, tokens.* or their existingSecret)" $component $key $component) }}
{{- end }}
{{- if hasKey $own $key }}
{{- with index $own $key }}
{{- fail (printf "%s.env.%s is set by the chart from %s: set %s instead of %s.env.%s" $component $key . . $component $key) }}
{{- else }}
{{- fail (printf "%s.env.%s is set by the chart (a mount path or in-cluster wiring the pod depends on) and cannot be overridden: remove %s.env.%s" $component $key $component $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- $ingress := $r.ingress }}
{{- if and $ingress.enabled $ingress.hosts (not $r.publicBaseUrl) (contains "*" (first $ingress.hosts).host) }}
{{- fail (printf "registry.ingress.hosts[0].host is the wildcard %q, which names no URL to download from: set registry.publicBaseUrl to the URL apps reach the registry at, e.g. https://models.example.com" (first $ingress.hosts).host) }}
{{- end }}
{{- if and (include "aneforge.isZero" $r.maxSurge) (include "aneforge.isZero" $r.maxUnavailable) }}
{{- fail "registry.maxSurge and registry.maxUnavailable are both 0, so a rollout could neither add nor remove a pod (the API server refuses it): set registry.maxSurge to 1 (start a new pod first) or registry.maxUnavailable to 1" }}
{{- end }}
{{- $pods := ternary (int $r.autoscaling.minReplicas) (int $r.replicaCount) (and $r.autoscaling.enabled true) }}
{{- $min := $r.podDisruptionBudget.minAvailable }}
{{- $minPods := int $min }}
{{- if hasSuffix "%" (toString $min) }}
{{- $minPods = div (add (mul $pods (int (trimSuffix "%" (toString $min)))) 99) 100 }}
{{- end }}
{{- if and $r.podDisruptionBudget.enabled (gt $pods 1) (ge (int $minPods) $pods) }}
{{- fail (printf "registry.podDisruptionBudget.minAvailable (%v) would keep all %d registry pods up, so no node could be drained: lower it below %d, or set registry.podDisruptionBudget.enabled=false" $min $pods $pods) }}
{{- end }}
{{- $statefulSets := list }}
{{- if .Values.worker.enabled }}
{{- $statefulSets = append $statefulSets "worker" }}
{{- end }}
{{- if and .Values.agent.enabled .Values.agent.cache.persistence.enabled }}
{{- $statefulSets = append $statefulSets "agent" }}
{{- end }}
{{- range $component := $statefulSets }}
{{- $sts := printf "%s-%s" (include "aneforge.fullname" $) $component }}
{{- if gt (len $sts) 52 }}
{{- fail (printf "the %s StatefulSet would be named %q (%d characters); Kubernetes adds an 11-character revision hash to it in a 63-character label, so it may have at most 52: use a shorter release name, or set fullnameOverride (at most %d characters)" $component $sts (len $sts) (sub 51 (len $component))) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Whether the registry gets a PodDisruptionBudget: only when at least two pods run at all times. With
one pod (replicaCount 1, or autoscaling.minReplicas 1) any minAvailable would block every node drain.
*/}}
{{- define "aneforge.registryPdb" -}}
{{- $r := .Values.registry }}
{{- $pods := ternary (int $r.autoscaling.minReplicas) (int $r.replicaCount) (and $r.autoscaling.enabled true) }}
{{- if and $r.podDisruptionBudget.enabled (gt $pods 1) }}true{{ end }}
{{- end }}
