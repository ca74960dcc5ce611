{{- define "herald.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Room is left for the longest suffix a resource adds ("-worker-metrics"). */}}
{{- define "herald.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 48 | trimSuffix "-" }}
{{- else if contains (include "herald.name" .) .Release.Name }}
{{- .Release.Name | trunc 48 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "herald.name" .) | trunc 48 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "herald.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "herald.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: herald
{{- end }}

{{- define "herald.selectorLabels" -}}
app.kubernetes.io/name: {{ include "herald.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one part (api, worker, migration): call with (dict "root" $ "component" "api"). */}}
{{- define "herald.componentLabels" -}}
{{ include "herald.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "herald.componentSelectorLabels" -}}
{{ include "herald.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "herald.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "herald.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- .Values.serviceAccount.name | default (include "herald.fullname" .) }}
{{- else }}
{{- .Values.serviceAccount.name | default "default" }}
{{- end }}
{{- end }}

{{/* The Secret the chart makes, holding whatever was given inline; none when there is nothing to hold. */}}
{{- define "herald.createsSecret" -}}
{{- if or .Values.secrets.create .Values.database.url .Values.temporal.apiKey.value .Values.redis.url }}true{{ end }}
{{- end }}

{{- define "herald.envFromSecret" -}}
{{- if .Values.secrets.create }}{{ include "herald.fullname" . }}{{ else }}{{ .Values.secrets.existingSecret }}{{ end }}
{{- end }}

{{/*
Stops the render on settings that would deploy pods that cannot work, naming the value to fix.
*/}}
{{- define "herald.validate" -}}
{{- $db := .Values.database }}
{{- if and (not $db.url) (not $db.existingSecret) }}
{{- fail "Set database.url or database.existingSecret: Herald's API and workers share PostgreSQL" }}
{{- end }}
{{- if and $db.url $db.existingSecret }}
{{- fail "Set one of database.url and database.existingSecret, not both" }}
{{- end }}
{{- if not .Values.temporal.address }}
{{- fail "Set temporal.address to the Temporal frontend's host:port, such as temporal-frontend.temporal:7233" }}
{{- end }}
{{- if and .Values.temporal.apiKey.value .Values.temporal.apiKey.existingSecret }}
{{- fail "Set one of temporal.apiKey.value and temporal.apiKey.existingSecret, not both" }}
{{- end }}
{{- if and .Values.redis.url .Values.redis.existingSecret }}
{{- fail "Set one of redis.url and redis.existingSecret, not both" }}
{{- end }}
{{- if and .Values.secrets.create .Values.secrets.existingSecret }}
{{- fail "Set secrets.create or secrets.existingSecret, not both: the pods take their environment from one Secret" }}
{{- end }}
{{- $tls := .Values.temporal.tls }}
{{- if and $tls.existingSecret (ne (empty $tls.certKey) (empty $tls.keyKey)) }}
{{- fail "temporal.tls.certKey and temporal.tls.keyKey go together: a client certificate needs its key" }}
{{- end }}
{{- $apiKey := or .Values.temporal.apiKey.value .Values.temporal.apiKey.existingSecret }}
{{- if and .Values.worker.autoscaling.enabled $tls.existingSecret (empty $tls.certKey) (not $apiKey) }}
{{- fail "worker.autoscaling with temporal.tls needs a client certificate (temporal.tls.certKey) or temporal.apiKey: KEDA's temporal scaler builds TLS only from one of them and would connect in plain text" }}
{{- end }}
{{- /* Kubernetes takes the last of two variables of one name, so extra env could quietly undo a setting. */}}
{{- $owned := dict
  "PORT" "api.port" "HOST" "the chart (0.0.0.0)"
  "DATABASE_URL" "database.*" "REDIS_URL" "redis.*" "TEMPORAL_API_KEY" "temporal.apiKey.*"
  "TEMPORAL_ADDRESS" "temporal.address" "TEMPORAL_NAMESPACE" "temporal.namespace" "HERALD_TASK_QUEUE" "temporal.taskQueue"
  "TEMPORAL_TLS_CA_PATH" "temporal.tls.*" "TEMPORAL_TLS_CERT_PATH" "temporal.tls.*" "TEMPORAL_TLS_KEY_PATH" "temporal.tls.*"
  "HERALD_SHUTDOWN_GRACE_SECONDS" "worker.shutdownGraceSeconds" "HERALD_PUBLIC_URL" "publicUrl" "HERALD_TRUST_PROXY" "api.trustProxy"
  "HERALD_WORKER_METRICS_ADDRESS" "worker.metrics.port" "HERALD_SDK_METRICS_ADDRESS" "worker.metrics.sdkPort" }}
{{- range $where, $env := dict "env" .Values.env "api.env" .Values.api.env "worker.env" .Values.worker.env "secrets.values" .Values.secrets.values }}
{{- range $name, $_ := $env }}
{{- with get $owned $name }}
{{- fail (printf "%s.%s: the chart sets %s from %s" $where $name $name .) }}
{{- end }}
{{- end }}
{{- end }}
{{- $grace := int .Values.worker.shutdownGraceSeconds }}
{{- $termination := include "herald.workerTerminationGrace" . | int }}
{{- if le $termination $grace }}
{{- fail (printf "worker.terminationGracePeriodSeconds (%d) must be longer than worker.shutdownGraceSeconds (%d): Kubernetes would kill workers while their activities still finish. Raise it or leave it unset (shutdownGraceSeconds + 20)" $termination $grace) }}
{{- end }}
{{- if le (int .Values.api.terminationGracePeriodSeconds) (int .Values.api.preStopSleepSeconds) }}
{{- fail (printf "api.terminationGracePeriodSeconds (%d) must be longer than api.preStopSleepSeconds (%d): the API would be killed before it is told to stop" (int .Values.api.terminationGracePeriodSeconds) (int .Values.api.preStopSleepSeconds)) }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.ingress.hosts) }}
{{- fail "ingress.enabled needs at least one entry in ingress.hosts" }}
{{- end }}
{{- with .Values.worker.autoscaling }}
{{- if and .enabled (gt (int .minReplicas) (int .maxReplicas)) }}
{{- fail (printf "worker.autoscaling.minReplicas (%d) is above maxReplicas (%d)" (int .minReplicas) (int .maxReplicas)) }}
{{- end }}
{{- end }}
{{- end }}

{{/* The app gives up its own stop at shutdownGraceSeconds + 15 s and says what it waited for; Kubernetes kills 5 s later. */}}
{{- define "herald.workerTerminationGrace" -}}
{{- if kindIs "invalid" .Values.worker.terminationGracePeriodSeconds }}
{{- add .Values.worker.shutdownGraceSeconds 20 }}
{{- else }}
{{- .Values.worker.terminationGracePeriodSeconds | int }}
{{- end }}
{{- end }}

{{/* A name=value environment variable list from a map, in a stable order; nothing for an empty map. */}}
{{- define "herald.envMap" -}}
{{- $env := list }}
{{- range $name, $value := . }}
{{- $env = append $env (dict "name" $name "value" (toString $value)) }}
{{- end }}
{{- with $env }}{{ toYaml . }}{{ end }}
{{- end }}

{{/*
An environment variable from a Secret: the user's (existingSecret, existingSecretKey) or else the chart's,
which keeps each value under its variable's name. Call with (dict "root" $ "name" "DATABASE_URL" "from" .Values.database).
*/}}
{{- define "herald.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      {{- if .from.existingSecret }}
      name: {{ .from.existingSecret }}
      key: {{ .from.existingSecretKey }}
      {{- else }}
      name: {{ include "herald.fullname" .root }}
      key: {{ .name }}
      {{- end }}
{{- end }}

{{- define "herald.tlsDir" -}}/etc/herald/temporal-tls{{- end }}

{{/* What the API and the worker both read: connections, secrets, the public URL and the extra env. */}}
{{- define "herald.commonEnv" -}}
{{ include "herald.secretEnv" (dict "root" . "name" "DATABASE_URL" "from" .Values.database) }}
- name: TEMPORAL_ADDRESS
  value: {{ .Values.temporal.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ .Values.temporal.namespace | quote }}
- name: HERALD_TASK_QUEUE
  value: {{ .Values.temporal.taskQueue | quote }}
{{- if or .Values.temporal.apiKey.value .Values.temporal.apiKey.existingSecret }}
{{ include "herald.secretEnv" (dict "root" . "name" "TEMPORAL_API_KEY" "from" .Values.temporal.apiKey) }}
{{- end }}
{{- with .Values.temporal.tls }}
{{- if .existingSecret }}
{{- if .caKey }}
- name: TEMPORAL_TLS_CA_PATH
  value: {{ include "herald.tlsDir" $ }}/ca.crt
{{- end }}
{{- if .certKey }}
- name: TEMPORAL_TLS_CERT_PATH
  value: {{ include "herald.tlsDir" $ }}/tls.crt
- name: TEMPORAL_TLS_KEY_PATH
  value: {{ include "herald.tlsDir" $ }}/tls.key
{{- end }}
{{- end }}
{{- end }}
{{- if or .Values.redis.url .Values.redis.existingSecret }}
{{ include "herald.secretEnv" (dict "root" . "name" "REDIS_URL" "from" .Values.redis) }}
{{- end }}
{{- with .Values.publicUrl }}
- name: HERALD_PUBLIC_URL
  value: {{ . | quote }}
{{- end }}
{{- with include "herald.envMap" .Values.env }}
{{ . }}
{{- end }}
{{- end }}

{{- define "herald.envFrom" -}}
{{- with include "herald.envFromSecret" . -}}
envFrom:
  - secretRef:
      name: {{ . }}
{{- end }}
{{- end }}

{{- define "herald.volumes" -}}
- name: tmp
  emptyDir: {}
{{- with .Values.temporal.tls }}
{{- if .existingSecret }}
- name: temporal-tls
  secret:
    secretName: {{ .existingSecret }}
    defaultMode: 0440
    items:
      {{- if .caKey }}
      - key: {{ .caKey }}
        path: ca.crt
      {{- end }}
      {{- if .certKey }}
      - key: {{ .certKey }}
        path: tls.crt
      - key: {{ .keyKey }}
        path: tls.key
      {{- end }}
{{- end }}
{{- end }}
{{- end }}

{{- define "herald.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.temporal.tls.existingSecret }}
- name: temporal-tls
  mountPath: {{ include "herald.tlsDir" . }}
  readOnly: true
{{- end }}
{{- end }}

{{/* Pod settings the API, the worker and the migration share. */}}
{{- define "herald.podSpecCommon" -}}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Pods roll when the chart's Secret changes: envFrom is read only at start. */}}
{{- define "herald.podAnnotations" -}}
{{- $annotations := dict }}
{{- if include "herald.createsSecret" . }}
{{- $_ := set $annotations "checksum/secret" (include (print .Template.BasePath "/secret.yaml") . | sha256sum) }}
{{- end }}
{{- with merge $annotations .Values.podAnnotations }}{{ toYaml . }}{{ end }}
{{- end }}

{{/* Whether Temporal wants credentials: an API key or a client certificate. */}}
{{- define "herald.temporalAuth" -}}
{{- with .Values.temporal }}
{{- if or .apiKey.value .apiKey.existingSecret .tls.existingSecret }}true{{ end }}
{{- end }}
{{- end }}
