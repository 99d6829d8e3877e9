# syntax=docker/dockerfile:1
#
# The White Cross service: one static binary on a distroless base (CA
# certificates, /etc/passwd, nothing else: no shell), run as the
# unprivileged user nonroot (65532).
#
#   docker build -t whitecross .
#   docker run --rm whitecross verify      # any command; serve by default
#
# Configuration is WHITECROSS_* variables (docs/operations.md). The image
# sets where the keys and the witness live; mount a volume on each, the
# witness on its own, and keep both out of the database's backups.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# The modules first, so that a change of code alone reuses this layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w" \
        -o /out/usr/local/bin/whitecross ./cmd/whitecross
# The directories the volumes are mounted on, owned by nonroot so that a
# new volume starts out writable by the service.
RUN mkdir -p /out/var/lib/whitecross/keys /out/var/lib/whitecross/witness \
        /out/var/lib/whitecross/metrics && \
    chmod 0700 /out/var/lib/whitecross/keys

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/usr/local/bin/whitecross /usr/local/bin/whitecross
COPY --from=build --chown=65532:65532 /out/var/lib/whitecross /var/lib/whitecross
USER 65532:65532
# In a container the metrics listen on every address, for Prometheus on
# the container network; publish their port to the monitoring network
# only.
ENV WHITECROSS_HTTP_ADDR=:8080 \
    WHITECROSS_METRICS_ADDR=:9464 \
    WHITECROSS_TOKEN_KEY_FILE=/var/lib/whitecross/keys/token-key.pem \
    WHITECROSS_SECRET_KEY_FILE=/var/lib/whitecross/keys/secret-key \
    WHITECROSS_LEDGER_KEY_FILE=/var/lib/whitecross/keys/ledger-key \
    WHITECROSS_WITNESS_DIR=/var/lib/whitecross/witness
VOLUME ["/var/lib/whitecross/keys", "/var/lib/whitecross/witness"]
EXPOSE 8080 9464
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/whitecross", "health"]
ENTRYPOINT ["/usr/local/bin/whitecross"]
CMD ["serve"]
