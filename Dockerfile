# The slogate image: one static binary that also answers as `k6` (k6 linked
# in, with slogate's JS module and "slogate" output), for k6-operator's
# initializer and runners and for the merge Job (docs/distributed.md).
#
#   docker build -t ghcr.io/slogate/slogate:latest .
#   docker run --rm ghcr.io/slogate/slogate:latest k6 version
#
# The final stage is Alpine, not scratch: k6-operator's initializer runs a
# shell script (sh, command -v, mkdir, dirname, grep, cat) in the runner
# image, and the merge Job expands the shard glob with sh.

ARG GO_VERSION=1.26.8
FROM golang:${GO_VERSION}-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
        -ldflags "-s -w -X github.com/slogate/slogate/runner.Version=${VERSION}" \
        -o /out/slogate ./cmd/slogate

FROM alpine:3.22
# uid/gid 12345 (as grafana/k6's image); the manifests set fsGroup to it.
RUN addgroup -g 12345 slogate && adduser -D -u 12345 -G slogate -g slogate slogate
COPY --from=build /out/slogate /usr/local/bin/slogate
# a symlink made here: COPY of a symlink would copy the whole binary again
RUN ln -s slogate /usr/local/bin/k6
ENV K6_AUTO_EXTENSION_RESOLUTION=false K6_NO_USAGE_REPORT=true
USER 12345
WORKDIR /home/slogate
ENTRYPOINT ["slogate"]
