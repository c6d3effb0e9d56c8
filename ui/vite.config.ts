/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The console's front end. Tauri loads `dist/` (built) or the dev server on :5173.
export default defineConfig(({ mode }) => ({
  plugins: [svelte()],
  clearScreen: false,
  // Tests also read the desktop shell's command list (src/lib/commands.test.ts).
  server: { port: 5173, strictPort: true, fs: mode === "test" ? { allow: [".", "../src-tauri"] } : undefined },
  build: { target: "es2022", sourcemap: false, assetsInlineLimit: 0 },
  test: { environment: "jsdom", include: ["src/**/*.test.ts"] },
  resolve: mode === "test" ? { conditions: ["browser"] } : undefined,
}));
