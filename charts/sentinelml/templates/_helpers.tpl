{{/*
Chart name, truncated to 63 characters (the DNS label limit of Kubernetes names).
*/}}
{{- define "sentinelml.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Fully qualified app name: <release>-<chart> unless the release name already contains the chart name.
Truncated to 63 characters; component objects append a suffix to a name truncated further.
*/}}
{{- define "sentinelml.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Name of a component's objects: <fullname>-<component>, within 63 characters.
Usage: include "sentinelml.componentName" (list . "inference")
*/}}
{{- define "sentinelml.componentName" -}}
{{- $ctx := index . 0 -}}
{{- $component := index . 1 -}}
{{- $max := sub 62 (len $component) | int -}}
{{- printf "%s-%s" (include "sentinelml.fullname" $ctx | trunc $max | trimSuffix "-") $component -}}
{{- end -}}

{{/*
CronJob names are limited to 52 characters (the controller appends an 11-character suffix to Jobs).
*/}}
{{- define "sentinelml.cronJobName" -}}
{{- printf "%s-drift" (include "sentinelml.fullname" . | trunc 46 | trimSuffix "-") -}}
{{- end -}}

{{- define "sentinelml.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Common labels (recommended app.kubernetes.io labels plus commonLabels from values).
*/}}
{{- define "sentinelml.labels" -}}
helm.sh/chart: {{ include "sentinelml.chart" . }}
{{ include "sentinelml.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sentinelml
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
Selector labels: stable across upgrades (never include the version or chart labels here).
*/}}
{{- define "sentinelml.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sentinelml.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
Labels and selector labels of one component. Usage: include "sentinelml.componentLabels" (list . "inference")
*/}}
{{- define "sentinelml.componentLabels" -}}
{{ include "sentinelml.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "sentinelml.componentSelectorLabels" -}}
{{ include "sentinelml.selectorLabels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/*
Container image reference: repository:tag, or repository@digest when a digest is pinned.
*/}}
{{- define "sentinelml.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/*
ServiceAccount name of a component. Usage: include "sentinelml.serviceAccountName" (list . "inference")
*/}}
{{- define "sentinelml.serviceAccountName" -}}
{{- $ctx := index . 0 -}}
{{- $component := index . 1 -}}
{{- $sa := (index $ctx.Values $component).serviceAccount -}}
{{- if $sa.create -}}
{{- default (include "sentinelml.componentName" (list $ctx $component)) $sa.name -}}
{{- else -}}
{{- default "default" $sa.name -}}
{{- end -}}
{{- end -}}

{{/*
Name of the PVC shared by the inference API (writes the prediction log), the drift job (reads the
log, writes reports) and the report server (reads the reports).
*/}}
{{- define "sentinelml.claimName" -}}
{{- default (include "sentinelml.componentName" (list . "data")) .Values.persistence.existingClaim -}}
{{- end -}}

{{/*
The shared data volume: the PVC, or an emptyDir when persistence is off (then nothing is shared).
*/}}
{{/*
The bring-your-own-model volume (values modelVolume), for the inference and drift pods.
*/}}
{{- define "sentinelml.modelVolume" -}}
{{- with .Values.modelVolume }}{{ if .enabled -}}
- name: model
  {{- if .configMap }}
  configMap:
    name: {{ .configMap }}
  {{- else }}
  {{- toYaml .source | nindent 2 }}
  {{- end }}
{{- end }}{{ end }}
{{- end -}}

{{- define "sentinelml.modelVolumeMount" -}}
{{- with .Values.modelVolume }}{{ if .enabled -}}
- name: model
  mountPath: {{ .mountPath }}
  readOnly: true
{{- end }}{{ end }}
{{- end -}}

{{/*
The claim is never mounted readOnly at the volume level, even for the report server (whose
container mount is readOnly): the kubelet skips fsGroup for a read-only volume, and for some volume
types (local PVs) applies it only on the first mount of the volume on a node — had the report server
mounted first, the volume would never become writable for the inference API and the drift job.
*/}}
{{- define "sentinelml.dataVolume" -}}
- name: data
{{- if .ctx.Values.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ include "sentinelml.claimName" .ctx }}
{{- else }}
  emptyDir:
    sizeLimit: {{ .ctx.Values.persistence.emptyDirSizeLimit }}
{{- end }}
- name: tmp
  emptyDir:
    medium: {{ .ctx.Values.tmp.medium | quote }}
    sizeLimit: {{ .ctx.Values.tmp.sizeLimit }}
{{- end -}}

{{/*
Pod-level fields every workload shares: security context (one fsGroup for all pods), pull secrets,
scheduling constraints of the component. Usage: include "sentinelml.podCommon" (list . "inference")
*/}}
{{- define "sentinelml.podSecurityContext" -}}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "sentinelml.scheduling" -}}
{{- with .priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if .affinity }}
affinity:
  {{- toYaml .affinity | nindent 2 }}
{{- else if and .component .podAntiAffinityPreset }}
affinity:
  podAntiAffinity:
    {{- if eq .podAntiAffinityPreset "hard" }}
    requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "sentinelml.componentSelectorLabels" (list .ctx .component) | nindent 12 }}
    {{- else }}
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "sentinelml.componentSelectorLabels" (list .ctx .component) | nindent 14 }}
    {{- end }}
{{- end }}
{{- with .topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
Container-level restricted security context plus the environment every component shares.
*/}}
{{- define "sentinelml.containerSecurityContext" -}}
securityContext:
  {{- toYaml .Values.containerSecurityContext | nindent 2 }}
{{- end -}}

{{- define "sentinelml.commonEnv" -}}
- name: SENTINEL_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: TMPDIR
  value: /tmp
{{- end -}}

{{/*
Seconds between two scheduled drift runs: drift.schedulePeriodSeconds when set, else derived from
drift.schedule for the common shapes (every N minutes, minute M of every hour, minute M of every
N-th hour, once a day, @hourly, @daily); any other schedule needs drift.schedulePeriodSeconds
(rendering fails with a message saying so).
*/}}
{{- define "sentinelml.drift.periodSeconds" -}}
{{- $d := .Values.drift -}}
{{- $s := $d.schedule | trim -}}
{{- if $d.schedulePeriodSeconds -}}
{{- $d.schedulePeriodSeconds | int -}}
{{- else if or (eq $s "@hourly") (regexMatch "^[0-9]+ \\* \\* \\* \\*$" $s) -}}
3600
{{- else if or (eq $s "@daily") (eq $s "@midnight") (regexMatch "^[0-9]+ [0-9]+ \\* \\* \\*$" $s) -}}
86400
{{- else if eq $s "* * * * *" -}}
60
{{- else if regexMatch "^\\*/[0-9]+ \\* \\* \\* \\*$" $s -}}
{{- mul 60 (regexFind "[0-9]+" $s | int) -}}
{{- else if regexMatch "^[0-9]+ \\*/[0-9]+ \\* \\* \\*$" $s -}}
{{- mul 3600 (regexFind "[0-9]+ \\* \\* \\*$" $s | regexFind "[0-9]+" | int) -}}
{{- else -}}
{{- fail (printf "drift.schedule %q: cannot derive the interval between runs; set drift.schedulePeriodSeconds" $s) -}}
{{- end -}}
{{- end -}}

{{/*
PromQL label matchers that scope every alert and recording to this release's targets.
*/}}
{{- define "sentinelml.metricSelector" -}}
{{- if .Values.prometheusRule.metricSelector -}}
{{- .Values.prometheusRule.metricSelector -}}
{{- else -}}
{{- $jobs := printf "%s|%s" (include "sentinelml.componentName" (list . "inference")) (include "sentinelml.componentName" (list . "reports")) -}}
{{- printf "namespace=%q,job=~%q" .Release.Namespace $jobs -}}
{{- end -}}
{{- end -}}
