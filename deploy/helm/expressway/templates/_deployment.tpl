{{/*
One component's Deployment: (dict "root" $ "component" "frontend" "values" .Values.frontend
"grpc" true "replicas" true). `grpc`: the component serves gRPC; `replicas`: the Deployment
sets its replica count (false when an HPA or KEDA owns it).
*/}}
{{- define "expressway.deployment" -}}
{{- $root := .root -}}
{{- $v := .values -}}
{{- $preStop := int (default 0 $v.preStopSleepSeconds) -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "expressway.fullname" $root }}-{{ .component }}
  labels:
    {{- include "expressway.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  {{- if .replicas }}
  replicas: {{ $v.replicas }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "expressway.selector" (dict "root" $root "component" .component) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "expressway.labels" $root | nindent 8 }}
        app.kubernetes.io/component: {{ .component }}
      annotations:
        {{- include "expressway.podAnnotations" (dict "root" $root "extra" $v.podAnnotations) | nindent 8 }}
    spec:
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: {{ include "expressway.terminationGrace" (dict "root" $root "preStop" $preStop) }}
      containers:
        - name: {{ .component }}
          image: {{ include "expressway.image" $root | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: [{{ .component | quote }}, "--config", {{ include "expressway.configFile" $root | quote }}]
          ports:
            {{- if .grpc }}
            - name: grpc
              containerPort: {{ $root.Values.ports.grpc }}
              protocol: TCP
            {{- end }}
            - name: http
              containerPort: {{ $root.Values.ports.http }}
              protocol: TCP
          {{- $env := include "expressway.env" (dict "root" $root "component" .component "extraEnv" $v.extraEnv) | trim }}
          {{- if $env }}
          env:
            {{- $env | nindent 12 }}
          {{- end }}
          # The HTTP listener opens once Kafka and Redis answer (a frontend, the results
          # service): give a first start time to find them before liveness counts.
          startupProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 5
            failureThreshold: 60
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 10
            timeoutSeconds: 3
            failureThreshold: 3
          # 503 while draining or while Kafka or Redis does not answer (probed every 2 s).
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 2
          {{- if gt $preStop 0 }}
          lifecycle:
            preStop:
              exec:
                command: ["sleep", {{ $preStop | quote }}]
          {{- end }}
          resources:
            requests:
              cpu: {{ default (include "expressway.cpuRequest" (dict "root" $root "component" .component)) $v.resources.requests.cpu }}
              {{- with $v.resources.requests.memory }}
              memory: {{ . }}
              {{- end }}
            {{- with $v.resources.limits }}
            limits:
              {{- toYaml . | nindent 14 }}
            {{- end }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            {{- include "expressway.volumeMounts" $root | nindent 12 }}
      volumes:
        {{- include "expressway.volumes" $root | nindent 8 }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}

{{/* A PodDisruptionBudget of one component: (dict "root" $ "component" "worker" "pdb" .Values.worker.pdb). */}}
{{- define "expressway.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "expressway.fullname" .root }}-{{ .component }}
  labels:
    {{- include "expressway.labels" .root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  {{- if hasKey .pdb "minAvailable" }}
  minAvailable: {{ .pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ .pdb.maxUnavailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "expressway.selector" (dict "root" .root "component" .component) | nindent 6 }}
{{- end -}}

{{/* A Service for gRPC and HTTP: (dict "root" $ "component" "frontend" "service" .Values.frontend.service). */}}
{{- define "expressway.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "expressway.fullname" .root }}-{{ .component }}
  labels:
    {{- include "expressway.labels" .root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
  {{- with .service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .service.type }}
  selector:
    {{- include "expressway.selector" (dict "root" .root "component" .component) | nindent 4 }}
  ports:
    - name: grpc
      port: {{ .root.Values.ports.grpc }}
      targetPort: grpc
      protocol: TCP
      appProtocol: grpc
    - name: http
      port: {{ .root.Values.ports.http }}
      targetPort: http
      protocol: TCP
{{- end -}}
