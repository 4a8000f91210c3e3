# syntax=docker/dockerfile:1
# The hookstream operator image. Build: docker build -t ghcr.io/hookstream/hookstream:$(node -p 'require("./package.json").version') .
# Node 24 is the LTS line the image runs (the project itself supports Node >= 20.19).
# test/integration/chart/image.test.ts replays the runtime stage's steps outside Docker and parses this file
# to stay in step with it: keep the two in agreement.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY crds ./crds
# `hookstream` on the PATH (kubectl exec ... hookstream --help); the entrypoint calls node directly.
RUN chmod 0755 /app/dist/main.js && ln -s /app/dist/main.js /usr/local/bin/hookstream
# Numeric, so Kubernetes can verify runAsNonRoot without a passwd entry; matches the chart's runAsUser.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["node", "/app/dist/main.js"]
CMD ["run"]
