/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// `npm run dev` serves the app on :5173 and sends /api and /auth to the console server of a
// running `make run` (CRM_CONSOLE_URL overrides http://127.0.0.1:8000).
const target = process.env.CRM_CONSOLE_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [preact()],
  server: {
    proxy: {
      "/api": { target, changeOrigin: true },
      "/auth": { target, changeOrigin: true },
    },
  },
  build: { outDir: "dist", sourcemap: false, chunkSizeWarningLimit: 300 },
  test: { environment: "node", include: ["src/**/*.test.ts", "src/**/*.test.tsx"] },
});
