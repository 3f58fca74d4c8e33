# Hookline API or worker (HOOKLINE_ROLE). Runs on the current Node LTS.
FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
ENV NODE_ENV=production HOOKLINE_DATA_DIR=/var/lib/hookline
EXPOSE 8080
CMD ["npx", "tsx", "src/main.ts"]
