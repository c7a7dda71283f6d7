# The relay as a static binary in a minimal, non-root image.
#   docker build -t hlsrelay .
#   docker run -p 8080:8080 -e HTTP_PORT=8080 -e PULL_SECRET=... -e PUSH_SECRET=... hlsrelay
# The default policy plugins are built to WebAssembly first and embedded
# into the binary (scripts/build-plugins.sh), as `make build` does.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY . .
RUN ./scripts/build-plugins.sh \
 && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/hlsrelay ./server/cmd/hlsrelay \
 && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/publish ./tools/cmd/publish \
 && mkdir -p /out/cache

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hlsrelay /out/publish /usr/local/bin/
# The plugin compilation cache: a container that starts again finds its
# plugins compiled (~0.3 s instead of ~1.5 s). With a read-only root file
# system mount a writable volume here (deploy/kubernetes uses an emptyDir);
# if it is not writable the relay compiles at every start and says so.
COPY --from=build --chown=nonroot:nonroot /out/cache /var/cache/hlsrelay
ENV HTTP_PORT=8080 PLUGIN_CACHE_DIR=/var/cache/hlsrelay LOG_FORMAT=json
EXPOSE 8080
USER nonroot:nonroot
# SIGTERM drains the node (docs/deployment.md): give it
# SHUTDOWN_TIMEOUT_SECONDS + 2 s before a kill, e.g. `docker stop -t 15`
# (Docker's default is 10 s). There is no HEALTHCHECK: the image has no
# client to run one; orchestrators probe GET /healthz (503 while draining).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/hlsrelay", "--env-file="]
