FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
USER node
EXPOSE 8080
# The same image runs the API (default) or the worker: `node scripts/start.mjs main/worker.ts`.
CMD ["node", "scripts/start.mjs", "main/api.ts"]
