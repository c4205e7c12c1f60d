# syntax=docker/dockerfile:1
# Authly container image. Three stages: deps (all dependencies, cached on the lock file), build (tsc to
# dist/), runtime (production dependencies only, non-root, nothing writable needed).
# Build:  docker build -t authly:local .      Run: see docs/deployment.md
# Node 26 is the Active LTS line since 2026-10-28; the major is pinned, patch releases come with rebuilds.
# A glibc (Debian trixie) base, not alpine: argon2 ships glibc prebuilds, so no compiler is needed.
ARG NODE_IMAGE=node:26-trixie-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency runs code at install time; argon2 loads its shipped prebuild at run time.
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ARG AUTHLY_VERSION=0.1.0
LABEL org.opencontainers.image.title="Authly" \
      org.opencontainers.image.description="OAuth 2.1 and OpenID Connect authorization server" \
      org.opencontainers.image.version="${AUTHLY_VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="docker.io/library/${NODE_IMAGE}"
# Secure by default: production mode refuses to start without DATABASE_URL, JWT_SECRET_KEY and an https
# issuer. Set ENVIRONMENT=development explicitly to try the image with the embedded database.
ENV NODE_ENV=production \
    ENVIRONMENT=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    AUTHLY_DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
# The web console's browser modules and stylesheet, served as they are under /console/assets/.
COPY console ./console
# /data: only for the embedded development database (ENVIRONMENT=development without DATABASE_URL).
RUN mkdir -p /data && chown node:node /data
# Everything above belongs to root and is read-only for the runtime user: with DATABASE_URL the server
# writes nothing to disk, so the root filesystem can be mounted read-only.
USER node
EXPOSE 8000
# node:*-slim has no curl; Node's fetch does the probe. /health is liveness (no database round trip).
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node runs as PID 1 without an init: Authly registers SIGTERM/SIGINT handlers itself (drain, then exit)
# and spawns no child processes to reap, except WORKERS>1, whose workers the primary waits for.
# Use `docker run --init` if you want tini anyway.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
