# The slsa-ml image: the operator (`slsa-ml operator`) and the CLI (`slsa-ml verify|query|attest|keygen`).
#   docker build -t REGISTRY/slsa-ml:v0.1.0 .
# Releases build it with .github/workflows/release.yml (ghcr.io/<repository>, signed, with provenance).
# Node.js 24 runs the TypeScript sources directly (type stripping); there is no build step.
# Pin the base image by digest in your registry mirror for reproducible builds.

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; no install scripts run.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# A small young generation: the operator's garbage is short-lived; measured in bench/README.md
# (peak RSS 169 instead of ~250 MiB with 10,000 TaskRuns watched, and more attestations per second).
ENV NODE_OPTIONS=--max-semi-space-size=4
COPY --from=deps /app/node_modules ./node_modules
COPY package.json LICENSE ./
COPY src ./src
COPY operator ./operator
# `slsa-ml` on PATH: Tasks call the CLI by name in their scripts (tasks/verify-model.yaml).
RUN chmod 0755 /app/operator/bin.ts && ln -s /app/operator/bin.ts /usr/local/bin/slsa-ml
# Non-root (the manifests also set runAsUser 65532 and a read-only root filesystem).
USER 65532:65532
ENTRYPOINT ["node", "/app/operator/bin.ts"]
CMD ["operator", "--config", "/etc/slsa-ml/config.yaml"]
