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
# The plugin compilation cache: makes restarts start in ~0.3 s instead of ~1.5 s.
COPY --from=build --chown=nonroot:nonroot /out/cache /var/cache/hlsrelay
ENV HTTP_PORT=8080 PLUGIN_CACHE_DIR=/var/cache/hlsrelay LOG_FORMAT=json
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/hlsrelay", "--env-file="]
