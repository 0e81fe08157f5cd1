# syntax=docker/dockerfile:1
# Two stages: a locked release build, then a small Debian runtime with CA certificates
# that runs the binary as an unprivileged user.
ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM docker.io/library/rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY .cargo ./.cargo
COPY src ./src
# The vendor simulators are a workspace member (demo mode and the `sandbox` command use them).
COPY simulators ./simulators
# Cargo.toml names the benchmark target, so cargo cannot read the manifest without it.
COPY benches ./benches
# The registry and target caches only speed up rebuilds; the binary is copied out of them.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin conversation-gateway \
    && cp target/release/conversation-gateway /usr/local/bin/conversation-gateway \
    && strip /usr/local/bin/conversation-gateway

FROM docker.io/library/debian:${DEBIAN_RELEASE}-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
    && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin gateway
COPY --from=build /usr/local/bin/conversation-gateway /usr/local/bin/conversation-gateway
USER 10001:10001
ENV GATEWAY_LISTEN=0.0.0.0:8080 \
    GATEWAY_LOG_FORMAT=json
EXPOSE 8080
# No shell or curl needed: the binary probes its own /healthz.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["conversation-gateway", "healthcheck"]
ENTRYPOINT ["conversation-gateway"]
CMD ["serve"]
