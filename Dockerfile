# syntax=docker/dockerfile:1
# One image for every workload: `sentinel serve`, `sentinel drift`, `sentinel reports`
# (the Helm chart picks the subcommand). Node 24 runs the TypeScript sources directly
# (erasable syntax only), so there is no build step: stage 1 installs production dependencies,
# stage 2 copies them with the sources, the bundled model and the reference dataset.
#
# Base pinned to an exact Node release (the one package.json's devDependency "node" pins).
# For reproducible production builds also pin the digest:
#   docker build --build-arg NODE_IMAGE=node:24.21.0-bookworm-slim@sha256:<digest> .
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# onnxruntime-node's postinstall would download CUDA binaries; the CPU binary ships in the package.
# package.json's allowScripts denies it on npm >= 11.16; the variable covers an older npm in the image.
ENV NODE_ENV=production \
    ONNXRUNTIME_NODE_INSTALL=skip \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v*/darwin node_modules/onnxruntime-node/bin/napi-v*/win32

FROM ${NODE_IMAGE} AS runtime
ARG UID=10001
ARG GID=10001
LABEL org.opencontainers.image.title="sentinelml" \
      org.opencontainers.image.description="SentinelML: model server with a durable prediction log, drift detection, reports and Prometheus metrics" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/sentinelml/sentinelml"
# A fixed non-root UID/GID matching the chart's securityContext (runAsUser/fsGroup 10001).
# The image's own "node" user (1000) is not used.
RUN groupadd --system --gid "${GID}" sentinel \
 && useradd --system --uid "${UID}" --gid sentinel --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin sentinel
WORKDIR /app
ENV NODE_ENV=production \
    HOME=/tmp \
    TMPDIR=/tmp \
    NODE_OPTIONS="--disable-warning=ExperimentalWarning" \
    NODE_COMPILE_CACHE=/app/.compile-cache
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --chown=root:root package.json ./
COPY --chown=root:root bin ./bin
COPY --chown=root:root src ./src
# The bundled model (ONNX + model card) and the reference dataset the drift CronJob compares against.
COPY --chown=root:root models/model.onnx models/model.json ./models/
COPY --chown=root:root data/reference.csv ./data/reference.csv
# `sentinel` on PATH for `kubectl exec ... -- sentinel drift ...`; the files stay root-owned and
# read-only for the runtime user (the chart also mounts the root file system read-only).
RUN printf '#!/bin/sh\nexec node /app/bin/sentinel.js "$@"\n' > /usr/local/bin/sentinel \
 && chmod 0755 /usr/local/bin/sentinel \
 && mkdir -p /data/live /data/reports /app/.compile-cache \
 && chown -R "${UID}:${GID}" /data /app/.compile-cache
USER ${UID}:${GID}
# Node's compile cache (the type-stripped, compiled modules), filled at build time by importing every
# module: each pod starts with an empty /tmp, and compiling them was half of a small drift run's CPU
# (a CronJob run over 10k rows per side: 0.68 s with an empty cache, 0.40 s with it;
# bench/drift/compile-cache.ts). Node keys the cache by user id, so it is filled as the runtime user;
# a module it lacks is compiled as before.
RUN node --input-type=module -e "import { readdirSync } from 'node:fs'; for (const f of readdirSync('src', { recursive: true })) if (f.endsWith('.ts')) await import('/app/src/' + f).catch(() => {});" \
 && test -n "$(ls -A /app/.compile-cache)"
# Inference API (serve) and report server (reports).
EXPOSE 8080 8081
VOLUME ["/data"]
ENTRYPOINT ["node", "/app/bin/sentinel.js"]
CMD ["serve", "--host=0.0.0.0", "--port=8080", "--model=/app/models/model.onnx", "--log-dir=/data/live"]
