# syntax=docker/dockerfile:1
# The `expressway` binary (every subcommand: dev, frontend, worker, results, the client
# commands) in a small runtime image. From the repository root:
#
#   docker build -t expressway:dev .
#   docker run --rm -p 50051:50051 -p 8083:8083 expressway:dev dev
#
# Stages: `chef` (the toolchain and cargo-chef), `planner` (the dependency recipe from the
# manifests), `builder` (dependencies first, in a layer that only changes with Cargo.toml and
# Cargo.lock, then the workspace), and the runtime image: Debian slim with OpenSSL's shared
# library (librdkafka links it) and the CA roots, a non-root user, the one binary.
ARG RUST_VERSION=1.95
ARG DEBIAN=bookworm

FROM rust:${RUST_VERSION}-${DEBIAN} AS chef
# librdkafka is compiled from source (configure and make) with OpenSSL and zlib; protoc is
# vendored by crates/proto.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl-dev pkg-config zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
RUN cargo install cargo-chef --locked --version ~0.1
# Line tables are for profiling on the development machine; the image does without them.
ENV CARGO_PROFILE_RELEASE_DEBUG=0
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
# crates/proto's build script compiles the API's protos, which the recipe does not carry.
COPY proto proto
RUN cargo chef cook --release --locked -p expressway-cli --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked -p expressway-cli --bin expressway \
 && cp target/release/expressway /usr/local/bin/expressway

FROM debian:${DEBIAN}-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin expressway
COPY --from=builder /usr/local/bin/expressway /usr/local/bin/expressway
USER 10001:10001
# Listen beyond loopback inside the container: gRPC (frontend, results; `dev`) and the HTTP
# listener (/metrics, /healthz, /readyz; the AWS JSON protocol on a frontend). Every
# subcommand reads these; a configuration file or a flag overrides them.
ENV EXPRESSWAY_LISTEN=0.0.0.0:50051 \
    EXPRESSWAY_HTTP_LISTEN=0.0.0.0:8083
EXPOSE 50051 8083
# Liveness through the HTTP listener without curl: bash's /dev/tcp, on the port that
# EXPRESSWAY_HTTP_LISTEN names (orchestrators use their own probes: /healthz and /readyz).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${EXPRESSWAY_HTTP_LISTEN##*:} && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["expressway"]
CMD ["--help"]
