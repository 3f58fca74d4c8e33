# Hookline API or worker (HOOKLINE_ROLE). Runs on the current Node LTS, compiled (no TypeScript
# loader at run time: it costs a thread and about 28 MB per process).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
# Inside a container the API must listen beyond loopback to be reachable through a published port.
ENV NODE_ENV=production HOOKLINE_DATA_DIR=/var/lib/hookline HOOKLINE_API_HOST=0.0.0.0
EXPOSE 8080
# The heap flags are src/node-flags.ts's, which says why.
CMD ["node", "--max-semi-space-size=8", "--heap-growing-percent=50", "dist/main.js"]
