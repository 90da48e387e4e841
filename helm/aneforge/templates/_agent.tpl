{{/*
The agent's pod template, shared by its Deployment (cache on an emptyDir) and its StatefulSet
(agent.cache.persistence.enabled: the cache volume comes from the StatefulSet's volumeClaimTemplates).
*/}}
{{- define "aneforge.agentPodTemplate" -}}
{{- $component := dict "root" . "component" "agent" }}
metadata:
  labels:
    {{- include "aneforge.labels" $component | nindent 4 }}
  annotations:
    checksum/config: {{ include (print $.Template.BasePath "/agent-configmap.yaml") . | sha256sum }}
    checksum/secrets: {{ include (print $.Template.BasePath "/secrets.yaml") . | sha256sum }}
    {{- with .Values.agent.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  automountServiceAccountToken: false
  # On SIGTERM the agent lets the job in hand finish for up to its drain timeout, then hands it
  # back; the kubelet must not kill it before.
  terminationGracePeriodSeconds: {{ add (int .Values.agent.drainTimeoutSeconds) 30 }}
  securityContext:
    {{- include "aneforge.podSecurityContext" . | nindent 4 }}
  containers:
    # The agent has no web server: liveness is the age of the file it touches whenever a registry
    # call returns (ANEFORGE_AGENT_LIVENESS_FILE, set below; /tmp is an emptyDir). Older than
    # 5 minutes means its threads are stuck; a refused token or an unreachable registry keep it
    # fresh (a restart would not fix them). The jobs a killed agent held return to the queue
    # when their leases expire.
    - name: agent
      image: {{ include "aneforge.image" (dict "root" . "image" .Values.agent.image) | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      envFrom:
        - configMapRef:
            name: {{ include "aneforge.componentName" $component }}
      env:
        # The probe below reads this file: set here (an explicit env entry wins over agent.env's ConfigMap), so
        # the file the agent touches and the one the probe reads cannot drift apart.
        - name: ANEFORGE_AGENT_LIVENESS_FILE
          value: /tmp/aneforge-agent-alive
        # The name the agent registers with: the pod name alone repeats in every namespace (and cluster) that
        # installs the chart under the same release name, and the registry would take those agents for one host.
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
        - name: ANEFORGE_AGENT_HOST_NAME
          value: {{ printf "%s$(POD_NAMESPACE).$(POD_NAME)" (ternary "" (printf "%s." .Values.agent.clusterName) (empty .Values.agent.clusterName)) | quote }}
        - name: ANEFORGE_AGENT_REGISTRY_TOKEN
          valueFrom:
            secretKeyRef:
              {{- include "aneforge.agentTokenRef" . | nindent 14 }}
      livenessProbe:
        exec:
          command: ["sh", "-c", "test -n \"$(find /tmp/aneforge-agent-alive -mmin -5 2>/dev/null)\""]
        initialDelaySeconds: 60
        periodSeconds: 60
        timeoutSeconds: 10
        failureThreshold: 2
      resources:
        {{- toYaml .Values.agent.resources | nindent 8 }}
      securityContext:
        {{- include "aneforge.containerSecurityContext" . | nindent 8 }}
      volumeMounts:
        # JNA unpacks its native library under java.io.tmpdir (the root filesystem is read-only).
        - name: tmp
          mountPath: /tmp
        # ANEFORGE_AGENT_CACHE_DIR: artifacts, and the lease releases the agent could not send.
        - name: cache
          mountPath: /var/cache/aneforge-agent
  volumes:
    - name: tmp
      emptyDir: {}
    {{- if not .Values.agent.cache.persistence.enabled }}
    - name: cache
      emptyDir:
        sizeLimit: {{ .Values.agent.cache.sizeLimit }}
    {{- end }}
  {{- with .Values.agent.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.agent.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.agent.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
