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
Public base URL for download links: registry.publicBaseUrl, else the first ingress host.
*/}}
{{- define "aneforge.publicBaseUrl" -}}
{{- if .Values.registry.publicBaseUrl }}
{{- .Values.registry.publicBaseUrl | trimSuffix "/" }}
{{- else if and .Values.registry.ingress.enabled .Values.registry.ingress.hosts }}
{{- $host := (first .Values.registry.ingress.hosts).host }}
{{- printf "%s://%s" (ternary "https" "http" (gt (len .Values.registry.ingress.tls) 0)) $host }}
{{- end }}
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
{{- if and .Values.s3.existingSecret (or .Values.s3.accessKey .Values.s3.secretKey) }}
{{- fail "s3.accessKey/s3.secretKey and s3.existingSecret are both set: keep the keys in the existing Secret and leave s3.accessKey and s3.secretKey empty" }}
{{- end }}
{{- if and .Values.tokens.existingSecret (or .Values.tokens.admin .Values.tokens.worker .Values.tokens.agent .Values.tokens.huggingFace) }}
{{- fail "tokens.existingSecret is set together with tokens.admin/worker/agent/huggingFace: keep the tokens in the existing Secret and leave those values empty" }}
{{- end }}
{{- range $component := list "registry" "worker" "agent" }}
{{- range $key, $value := (index $.Values $component).env }}
{{- if regexMatch "(?i)(PASSWORD|SECRET|TOKEN|ACCESS_KEY|CREDENTIAL)" $key }}
{{- fail (printf "%s.env.%s looks like a secret, and %s.env is rendered into a ConfigMap: put it in a Secret (database.*, s3.*, tokens.* or their existingSecret)" $component $key $component) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
