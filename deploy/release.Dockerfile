# syntax=docker/dockerfile:1
#
# The released multi-arch image: the static musl binaries scripts/release puts in dist/,
# one per platform, on distroless static, as uid 65532. Nothing is compiled here.
#
#   scripts/release
#   docker buildx build -f deploy/release.Dockerfile \
#     --platform linux/amd64,linux/arm64 -t authrelay .     (from the repository root)
#
# buildx sets TARGETARCH (amd64, arm64) per platform; dist/linux-$TARGETARCH/authrelay is
# that platform's binary. The image needs no writable path: it runs with a read-only root
# filesystem as it is (readOnlyRootFilesystem in Kubernetes, --read-only in Docker).
# deploy/Dockerfile builds the same binary from source instead (amd64; Fly uses it).

FROM gcr.io/distroless/static-debian12:nonroot
ARG TARGETARCH
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.title="authrelay" \
      org.opencontainers.image.description="The one stable OAuth callback for preview deployments." \
      org.opencontainers.image.licenses="MIT OR Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
COPY --chmod=0555 dist/linux-${TARGETARCH}/authrelay /authrelay
ENV HOST=0.0.0.0 PORT=3000 LOG_FORMAT=json
EXPOSE 3000
# distroless's `nonroot` is uid/gid 65532; the Helm chart and manifests set runAsUser 65532.
USER 65532:65532
# `authrelay healthcheck` GETs http://127.0.0.1:$PORT/healthz with std only: no curl here.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
    CMD ["/authrelay", "healthcheck"]
ENTRYPOINT ["/authrelay"]
CMD ["serve"]
