{{- define "palisade.name" -}}palisade{{- end -}}
{{- define "palisade.fullname" -}}{{ if contains "palisade" .Release.Name }}{{ .Release.Name }}{{ else }}{{ .Release.Name }}-palisade{{ end }}{{- end -}}
{{- define "palisade.labels" -}}
app.kubernetes.io/name: palisade
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}
{{- define "palisade.selector" -}}
app.kubernetes.io/name: palisade
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "palisade.image" -}}
{{- if .Values.image.digest -}}{{ .Values.image.repository }}@{{ .Values.image.digest }}{{- else -}}{{ .Values.image.repository }}:{{ .Values.image.tag }}{{- end -}}
{{- end -}}
{{/* Namespaces the webhooks never see: kube-system and Palisade's own, always (no lockout). */}}
{{- define "palisade.namespaceSelector" -}}
namespaceSelector:
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values:
        - kube-system
        - {{ .Release.Namespace }}
        {{- range .Values.webhook.excludedNamespaces }}
        - {{ . }}
        {{- end }}
    - key: palisade.dev/admission
      operator: NotIn
      values: ["disabled"]
{{- end -}}
{{/* Every kind that carries a pod template (palisade_k8s::workload::WORKLOAD_KINDS). */}}
{{- define "palisade.workloadRules" -}}
- apiGroups: [""]
  apiVersions: ["*"]
  operations: ["CREATE", "UPDATE"]
  resources: ["pods", "pods/ephemeralcontainers", "podtemplates", "replicationcontrollers"]
- apiGroups: ["apps"]
  apiVersions: ["*"]
  operations: ["CREATE", "UPDATE"]
  resources: ["deployments", "statefulsets", "daemonsets", "replicasets"]
- apiGroups: ["batch"]
  apiVersions: ["*"]
  operations: ["CREATE", "UPDATE"]
  resources: ["jobs", "cronjobs"]
- apiGroups: ["argoproj.io"]
  apiVersions: ["*"]
  operations: ["CREATE", "UPDATE"]
  resources: ["rollouts"]
- apiGroups: ["serving.knative.dev"]
  apiVersions: ["*"]
  operations: ["CREATE", "UPDATE"]
  resources: ["services", "configurations", "revisions"]
- apiGroups: ["serving.kserve.io"]
  apiVersions: ["*"]
  operations: ["CREATE", "UPDATE"]
  resources: ["inferenceservices", "servingruntimes", "clusterservingruntimes"]
- apiGroups: ["serving.kubeflow.org"]
  apiVersions: ["*"]
  operations: ["CREATE", "UPDATE"]
  resources: ["inferenceservices"]
- apiGroups: ["kubeflow.org"]
  apiVersions: ["*"]
  operations: ["CREATE", "UPDATE"]
  resources: ["notebooks", "pytorchjobs", "tfjobs", "mpijobs", "xgboostjobs", "paddlejobs", "mxjobs", "jaxjobs"]
- apiGroups: ["ray.io"]
  apiVersions: ["*"]
  operations: ["CREATE", "UPDATE"]
  resources: ["rayclusters", "rayjobs", "rayservices"]
- apiGroups: ["machinelearning.seldon.io"]
  apiVersions: ["*"]
  operations: ["CREATE", "UPDATE"]
  resources: ["seldondeployments"]
- apiGroups: ["batch.volcano.sh"]
  apiVersions: ["*"]
  operations: ["CREATE", "UPDATE"]
  resources: ["jobs"]
- apiGroups: ["jobset.x-k8s.io"]
  apiVersions: ["*"]
  operations: ["CREATE", "UPDATE"]
  resources: ["jobsets"]
- apiGroups: ["leaderworkerset.x-k8s.io"]
  apiVersions: ["*"]
  operations: ["CREATE", "UPDATE"]
  resources: ["leaderworkersets"]
{{- end -}}
{{/* Whether Palisade talks to the API server (namespace labels, signing keys in Secrets),
and so needs its service account's token. */}}
{{- define "palisade.needsToken" -}}
{{- if or .Values.namespaceLabels.fromApiServer .Values.imageVerification.keySecrets -}}true{{- end -}}
{{- end -}}
