# Secretary: API + worker in one container (docs/docker.md).
#   docker build -t secretary .
#   docker compose up        (with MongoDB as a one-node replica set)
# Node 20 on Debian 12 (bookworm), the release the dev and CI machines run.

# ---- production dependencies (better-sqlite3 compiles here when no prebuilt binary fits)
FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# ---- build: TypeScript → dist/ (needs the dev dependencies)
FROM deps AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime
FROM node:20-bookworm-slim
# ffmpeg: audio/video; LibreOffice without a desktop: office previews and office_via_pdf;
# fonts: DejaVu plus metric-compatible Liberation (Arial, Times, Courier), Carlito (Calibri)
# and Caladea (Cambria), so office documents keep their line and page breaks; tini reaps
# LibreOffice's children.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ffmpeg \
      libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui \
      fonts-dejavu-core fonts-liberation2 fonts-crosextra-carlito fonts-crosextra-caladea \
      tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system secretary \
 && useradd --system --gid secretary --home-dir /home/secretary --create-home secretary
WORKDIR /app
ENV NODE_ENV=production \
    SECRETARY_HOME=/app \
    SECRETARY__SERVER__HOST=0.0.0.0 \
    PORT=5001 \
    MALLOC_ARENA_MAX=2
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY config ./config
COPY web ./web
COPY templates ./templates
RUN mkdir -p /app/cache /app/data && chown secretary:secretary /app/cache /app/data
USER secretary
VOLUME ["/app/cache", "/app/data"]
EXPOSE 5001
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||5001)+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "bin/secretary.js", "serve"]
