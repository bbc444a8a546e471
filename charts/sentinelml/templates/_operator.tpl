{{/*
Operator mode: `sentinel operator` maintains the drift CronJob from the release's ModelMonitor
(operator.enabled and modelMonitor.enabled). Otherwise, with drift.enabled, the chart renders the
CronJob itself (operator-less mode: flags instead of the spec). Renders "true" or "".
*/}}
{{- define "sentinelml.operatorMode" -}}
{{- if and .Values.operator.enabled .Values.modelMonitor.enabled -}}true{{- end -}}
{{- end -}}

{{/*
Whether drift pods talk to the Kubernetes API: always in operator mode (they read the spec), with
drift.reportStatus in operator-less mode (they write the status).
*/}}
{{- define "sentinelml.driftUsesApi" -}}
{{- if or (include "sentinelml.operatorMode" .) (and .Values.drift.reportStatus .Values.modelMonitor.enabled) -}}true{{- end -}}
{{- end -}}

{{/* Namespaces the operator watches with rbacScope namespace (default: the release's). */}}
{{- define "sentinelml.operator.namespaces" -}}
{{- $ns := .Values.operator.watchNamespaces | default (list .Release.Namespace) -}}
{{- toJson $ns -}}
{{- end -}}

{{/* The operator's Lease name. */}}
{{- define "sentinelml.operator.leaseName" -}}
{{- include "sentinelml.componentName" (list . "operator") -}}
{{- end -}}

{{/*
What the operator puts into every drift job pod besides the ModelMonitor's spec (--job-template).
*/}}
{{- define "sentinelml.operator.jobTemplate" -}}
{{- $d := .Values.drift -}}
imagePullPolicy: {{ .Values.image.pullPolicy }}
logLevel: {{ .Values.logLevel }}
pod:
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $d.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $d.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $d.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $d.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
containerSecurityContext:
  {{- toYaml .Values.containerSecurityContext | nindent 2 }}
tmp:
  {{- with .Values.tmp.medium }}
  medium: {{ . | quote }}
  {{- end }}
  sizeLimit: {{ .Values.tmp.sizeLimit | quote }}
labels:
  {{- with (merge (dict) (.Values.commonLabels | default dict) ($d.podLabels | default dict)) }}
  {{- toYaml . | nindent 2 }}
  {{- else }} {}
  {{- end }}
{{- end -}}
