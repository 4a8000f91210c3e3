{{/* Release fullname: the release name, suffixed with the chart name unless it already contains it. */}}
{{- define "hookstream.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels on every object of the release (uninstall and the tests find objects by them). */}}
{{- define "hookstream.labels" -}}
{{ include "hookstream.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: hookstream
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The immutable subset that the Deployment, Service, PDB and NetworkPolicy select pods by. */}}
{{- define "hookstream.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The Lease the replicas elect a leader through (one per release). */}}
{{- define "hookstream.leaseName" -}}
{{- include "hookstream.fullname" . -}}
{{- end -}}

{{- define "hookstream.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The rules the operator needs on the namespaced resources it watches (ClusterRole or per-namespace Role). */}}
{{- define "hookstream.watchRules" -}}
# Subscriptions: read through list+watch (the controller's cache).
- apiGroups: ["hookstream.io"]
  resources: ["webhooksubscriptions"]
  verbs: ["get", "list", "watch"]
# Status: merge patches of the /status subresource only; the operator never writes spec.
- apiGroups: ["hookstream.io"]
  resources: ["webhooksubscriptions/status"]
  verbs: ["patch"]
# Secrets referenced by subscriptions (signing keys, endpoint auth, TLS): cached via list+watch, never fetched one by one.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["list", "watch"]
# Kubernetes Events on subscriptions: created with generateName, never updated or patched.
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end -}}

{{/* Fails rendering on combinations the schema cannot express. */}}
{{- define "hookstream.validate" -}}
{{- if and (gt (int .Values.replicas) 1) (not .Values.leaderElection.enabled) -}}
{{- fail "replicas > 1 needs leaderElection.enabled: true (several replicas without a leader would each deliver every event)" -}}
{{- end -}}
{{- $tls := .Values.nats.tls -}}
{{- if and $tls.secretName (ne (empty $tls.certKey) (empty $tls.keyKey)) -}}
{{- fail "nats.tls.certKey and nats.tls.keyKey go together: set both (mTLS) or both to \"\" (server TLS only)" -}}
{{- end -}}
{{- if and $tls.secretName (empty $tls.caKey) (empty $tls.certKey) -}}
{{- fail "nats.tls.secretName is set but nats.tls.caKey, certKey and keyKey are all empty: nothing to mount" -}}
{{- end -}}
{{- end -}}
