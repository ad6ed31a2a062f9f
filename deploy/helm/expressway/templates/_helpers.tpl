{{/* Names and labels. */}}
{{- define "expressway.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "expressway.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "frontend"). */}}
{{- define "expressway.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "expressway.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Where the configuration and the TLS material are mounted. */}}
{{- define "expressway.configDir" -}}/etc/expressway/config{{- end -}}
{{- define "expressway.configFile" -}}{{ include "expressway.configDir" . }}/expressway.toml{{- end -}}
{{- define "expressway.kafkaTlsDir" -}}/etc/expressway/kafka-tls{{- end -}}
{{- define "expressway.redisTlsDir" -}}/etc/expressway/redis-tls{{- end -}}

{{/*
The services' configuration: `config` from the values, plus what the chart owns (listen
addresses from `ports`, Kafka SASL/TLS properties, Redis TLS files). Returned as YAML.
*/}}
{{- define "expressway.config" -}}
{{- $c := deepCopy .Values.config -}}
{{- $_ := set $c "listen" (printf "0.0.0.0:%d" (int .Values.ports.grpc)) -}}
{{- $_ := set $c "http_listen" (printf "0.0.0.0:%d" (int .Values.ports.http)) -}}
{{- $kafka := $c.kafka -}}
{{- $props := default (dict) $kafka.properties -}}
{{- $sasl := .Values.kafkaAuth.sasl -}}
{{- $ktls := .Values.kafkaAuth.tls -}}
{{- if $sasl.enabled -}}
{{- if not $sasl.existingSecret -}}{{- fail "kafkaAuth.sasl.enabled needs kafkaAuth.sasl.existingSecret (the Secret holding the password)" -}}{{- end -}}
{{- $_ := set $props "security.protocol" (ternary "SASL_SSL" "SASL_PLAINTEXT" (eq (toString $ktls.enabled) "true")) -}}
{{- $_ := set $props "sasl.mechanism" $sasl.mechanism -}}
{{- $_ := set $props "sasl.username" $sasl.username -}}
{{- else if $ktls.enabled -}}
{{- $_ := set $props "security.protocol" "SSL" -}}
{{- end -}}
{{- if $ktls.enabled -}}
{{- if not $ktls.existingSecret -}}{{- fail "kafkaAuth.tls.enabled needs kafkaAuth.tls.existingSecret" -}}{{- end -}}
{{- $_ := set $props "ssl.ca.location" (printf "%s/%s" (include "expressway.kafkaTlsDir" .) $ktls.caKey) -}}
{{- if $ktls.certKey -}}
{{- $_ := set $props "ssl.certificate.location" (printf "%s/%s" (include "expressway.kafkaTlsDir" .) $ktls.certKey) -}}
{{- $_ := set $props "ssl.key.location" (printf "%s/%s" (include "expressway.kafkaTlsDir" .) $ktls.keyKey) -}}
{{- end -}}
{{- end -}}
{{- /* librdkafka takes every setting as a string (`--set` would make "5" a number). */ -}}
{{- range $k, $v := $props -}}{{- $_ := set $props $k (toString $v) -}}{{- end -}}
{{- $_ := set $kafka "properties" $props -}}
{{- /* One server or a cluster: the services refuse both (the default url goes when cluster_urls is set). */ -}}
{{- $redisUrl := $c.redis.url -}}
{{- if $c.redis.cluster_urls -}}
{{- $_ := unset $c.redis "url" -}}
{{- $redisUrl = first $c.redis.cluster_urls -}}
{{- else -}}
{{- $_ := unset $c.redis "cluster_urls" -}}
{{- end -}}
{{- $rtls := .Values.redisAuth.tls -}}
{{- if $rtls.enabled -}}
{{- if not (hasPrefix "rediss://" $redisUrl) -}}{{- fail "redisAuth.tls.enabled needs rediss:// in config.redis.url or config.redis.cluster_urls" -}}{{- end -}}
{{- if not $rtls.existingSecret -}}{{- fail "redisAuth.tls.enabled needs redisAuth.tls.existingSecret" -}}{{- end -}}
{{- $_ := set $c.redis "tls_ca_file" (printf "%s/%s" (include "expressway.redisTlsDir" .) $rtls.caKey) -}}
{{- if $rtls.certKey -}}
{{- $_ := set $c.redis "tls_cert_file" (printf "%s/%s" (include "expressway.redisTlsDir" .) $rtls.certKey) -}}
{{- $_ := set $c.redis "tls_key_file" (printf "%s/%s" (include "expressway.redisTlsDir" .) $rtls.keyKey) -}}
{{- end -}}
{{- end -}}
{{- toYaml $c -}}
{{- end -}}

{{/* TOML, from a map: scalars and arrays first, then [tables], then [[arrays of tables]]. */}}
{{- define "expressway.toml.key" -}}
{{- if regexMatch "^[A-Za-z0-9_-]+$" . -}}{{ . }}{{- else -}}{{ toJson . }}{{- end -}}
{{- end -}}

{{- define "expressway.toml.value" -}}
{{- $k := kindOf . -}}
{{- if eq $k "string" -}}{{ toJson . }}
{{- else if eq $k "bool" -}}{{ . }}
{{- else if or (eq $k "float64") (eq $k "float32") -}}
{{- if eq (floor .) (float64 .) -}}{{ int64 . }}{{- else -}}{{ . }}{{- end -}}
{{- else if or (hasPrefix "int" $k) (hasPrefix "uint" $k) -}}{{ . }}
{{- else if eq $k "slice" -}}[{{ range $i, $e := . }}{{ if $i }}, {{ end }}{{ include "expressway.toml.value" $e }}{{ end }}]
{{- else -}}{{ fail (printf "a %s cannot be a TOML value here" $k) }}
{{- end -}}
{{- end -}}

{{- define "expressway.toml.isTableArray" -}}
{{- if and (kindIs "slice" .) (gt (len .) 0) -}}{{- if kindIs "map" (first .) -}}true{{- end -}}{{- end -}}
{{- end -}}

{{/* (dict "path" list-of-keys "table" map) */}}
{{- define "expressway.toml.table" -}}
{{- $path := .path -}}
{{- range $k, $v := .table -}}
{{- if and (not (kindIs "invalid" $v)) (not (kindIs "map" $v)) (not (include "expressway.toml.isTableArray" $v)) }}
{{ include "expressway.toml.key" $k }} = {{ include "expressway.toml.value" $v }}
{{- end -}}
{{- end -}}
{{- range $k, $v := .table -}}
{{- if kindIs "map" $v -}}
{{- $p := append $path $k }}

[{{ range $i, $seg := $p }}{{ if $i }}.{{ end }}{{ include "expressway.toml.key" $seg }}{{ end }}]
{{- include "expressway.toml.table" (dict "path" $p "table" $v) -}}
{{- end -}}
{{- end -}}
{{- range $k, $v := .table -}}
{{- if include "expressway.toml.isTableArray" $v -}}
{{- $p := append $path $k -}}
{{- range $e := $v }}

[[{{ range $i, $seg := $p }}{{ if $i }}.{{ end }}{{ include "expressway.toml.key" $seg }}{{ end }}]]
{{- include "expressway.toml.table" (dict "path" $p "table" $e) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The CPU request of a component, from the measured CPU per execution: (dict "root" $ "component" "worker"). */}}
{{- define "expressway.cpuRequest" -}}
{{- $s := .root.Values.sizing -}}
{{- $us := float64 (index $s.cpuMicrosPerExecution .component) -}}
{{- if eq .component "worker" -}}{{- $us = addf $us $s.workflowCpuMicrosPerExecution -}}{{- end -}}
{{- $rate := index $s.executionsPerSecondPerPod .component -}}
{{- printf "%dm" (int64 (ceil (mulf $rate $us $s.headroom 0.001))) -}}
{{- end -}}

{{/* Seconds a pod may take to stop: its preStop sleep, 2 s of not serving, the drain, then the producers' flush (up to 10 s each; a frontend flushes two) and leaving the group. */}}
{{- define "expressway.terminationGrace" -}}
{{- add (int .preStop) 2 (int .root.Values.config.drain_timeout_seconds) 25 -}}
{{- end -}}

{{/* Environment every container gets: secrets, traces, extra variables. (dict "root" $ "component" name "extraEnv" list) */}}
{{- define "expressway.env" -}}
{{- $v := .root.Values -}}
{{- if $v.kafkaAuth.sasl.enabled }}
- name: EXPRESSWAY_KAFKA__SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $v.kafkaAuth.sasl.existingSecret }}
      key: {{ $v.kafkaAuth.sasl.passwordKey }}
{{- end }}
{{- if $v.redisAuth.existingSecret }}
- name: EXPRESSWAY_REDIS__PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $v.redisAuth.existingSecret }}
      key: {{ $v.redisAuth.passwordKey }}
{{- end }}
{{- if $v.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $v.otel.endpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ $v.otel.protocol | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ printf "expressway-%s" .component | quote }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ printf "service.namespace=%s,k8s.namespace.name=%s" .root.Release.Name .root.Release.Namespace | quote }}
{{- end }}
{{- with .extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Volumes and mounts: the configuration, and TLS material when configured. */}}
{{- define "expressway.volumes" -}}
- name: config
  configMap:
    name: {{ include "expressway.fullname" . }}-config
{{- if .Values.kafkaAuth.tls.enabled }}
- name: kafka-tls
  secret:
    secretName: {{ .Values.kafkaAuth.tls.existingSecret }}
{{- end }}
{{- if .Values.redisAuth.tls.enabled }}
- name: redis-tls
  secret:
    secretName: {{ .Values.redisAuth.tls.existingSecret }}
{{- end }}
{{- end -}}

{{- define "expressway.volumeMounts" -}}
- name: config
  mountPath: {{ include "expressway.configDir" . }}
  readOnly: true
{{- if .Values.kafkaAuth.tls.enabled }}
- name: kafka-tls
  mountPath: {{ include "expressway.kafkaTlsDir" . }}
  readOnly: true
{{- end }}
{{- if .Values.redisAuth.tls.enabled }}
- name: redis-tls
  mountPath: {{ include "expressway.redisTlsDir" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* Pod annotations: a checksum of the configuration (a change rolls the pods) and scraping. */}}
{{- define "expressway.podAnnotations" -}}
checksum/config: {{ include "expressway.config" .root | sha256sum }}
{{- if .root.Values.metrics.annotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .root.Values.ports.http | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end -}}
