# Multi-stage build: a static binary with the built-in policy packs embedded,
# on a distroless base that has CA certificates and a non-root user and nothing else.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/trailguard ./cmd/trailguard
# The default SQLite state directory, owned by the image's non-root user
# (distroless has no shell to make it in the final stage).
RUN mkdir -p /out/state && chown 65532:65532 /out/state

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/trailguard /usr/local/bin/trailguard
# The bundled sample logs let `docker run IMAGE run` work without AWS, as the README's first command does.
COPY --from=build --chown=65532:65532 /src/examples/logs /examples/logs
# Delivery records, dedup windows, stateful baselines and the alert history
# live here (state.type sqlite, the default): mount a volume to keep them
# across container restarts.
COPY --from=build --chown=65532:65532 /out/state /var/lib/trailguard
VOLUME ["/var/lib/trailguard"]
WORKDIR /
USER 65532:65532
EXPOSE 9090
ENTRYPOINT ["/usr/local/bin/trailguard"]
CMD ["run"]
