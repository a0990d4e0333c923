{{/* The chart name, or nameOverride. */}}
{{- define "commerce.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The full name: fullnameOverride, or <release>-<chart> unless the release already holds it. */}}
{{- define "commerce.fullname" -}}
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

{{/* chart label value: name-version. */}}
{{- define "commerce.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every resource. */}}
{{- define "commerce.labels" -}}
helm.sh/chart: {{ include "commerce.chart" . }}
{{ include "commerce.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: commerce
{{- end }}

{{/* Labels selectors match on (plus app.kubernetes.io/component per workload). */}}
{{- define "commerce.selectorLabels" -}}
app.kubernetes.io/name: {{ include "commerce.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The ServiceAccount name. */}}
{{- define "commerce.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "commerce.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The existing Secret with credentials. */}}
{{- define "commerce.secretName" -}}
{{- default (include "commerce.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* The image reference. */}}
{{- define "commerce.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
The non-secret settings, as a YAML map of env name -> string. The ConfigMap holds them for
api and worker; the migration Job, a pre-install hook that runs before the ConfigMap exists,
gets the same map inline. Empty optional values are left out rather than set to "".
*/}}
{{- define "commerce.configData" -}}
{{- $c := .Values.config -}}
ENVIRONMENT: {{ $c.environment | quote }}
LOG_JSON: {{ $c.logJson | toString | quote }}
LOG_LEVEL: {{ $c.logLevel | quote }}
HOST: "0.0.0.0"
PORT: "8000"
# One uvicorn process per pod: scale with replicas (the HPA), not processes.
WORKERS: "1"
DATA_DIR: "/tmp/commerce"
# The migration Job migrates; api and worker never do it on start.
MIGRATE_ON_START: "false"
{{- with $c.metricsPort }}
METRICS_PORT: {{ . | toString | quote }}
{{- end }}
OTEL_SERVICE_NAME: {{ $c.otelServiceName | quote }}
{{- with $c.publicBaseUrl }}
PUBLIC_BASE_URL: {{ . | quote }}
{{- end }}
{{- with $c.corsOrigins }}
CORS_ORIGINS: {{ join "," . | quote }}
{{- end }}
{{- with $c.trustedProxies }}
TRUSTED_PROXIES: {{ join "," . | quote }}
{{- end }}
{{- with $c.otelExporterOtlpEndpoint }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ . | quote }}
{{- end }}
{{- with $c.sentryEnvironment }}
SENTRY_ENVIRONMENT: {{ . | quote }}
{{- end }}
{{- if ne (toString $c.sentryTracesSampleRate) "" }}
SENTRY_TRACES_SAMPLE_RATE: {{ $c.sentryTracesSampleRate | toString | quote }}
{{- end }}
{{- range $name, $value := $c.extra }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/* env entries from the existing Secret (secretKeyRef per variable). */}}
{{- define "commerce.secretEnv" -}}
{{- $secret := include "commerce.secretName" . -}}
{{- range $name, $ref := .Values.secretEnv }}
{{- if $ref.key }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $ref.key }}
      {{- if $ref.optional }}
      optional: true
      {{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* The /tmp emptyDir volume. */}}
{{- define "commerce.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpVolume.sizeLimit }}
{{- end }}

{{/* The /tmp mount. */}}
{{- define "commerce.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

{{/* prometheus.io scrape annotations, when asked for. */}}
{{- define "commerce.scrapeAnnotations" -}}
{{- if .Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .Values.config.metricsPort | toString | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end }}
