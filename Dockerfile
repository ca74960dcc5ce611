# Herald's image: the compiled build (npm run build) on production dependencies only. The same image
# runs the API (default), the worker (`node dist/main/worker.js`) and migrations (`node dist/main/migrate.js`).
ARG NODE_VERSION=20.20.2

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# glibc's malloc gives each busy thread an arena of its own, up to eight per core: two keep ≈50 MiB
# less resident per process at idle (Herald's threads: the Temporal core's, Node's, the workflow thread).
ENV MALLOC_ARENA_MAX=2
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8080
CMD ["node", "dist/main/api.js"]
