import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";
import Components from "unplugin-vue-components/vite";
import { ElementPlusResolver } from "unplugin-vue-components/resolvers";

// Tauri expects a fixed port in development and no clearing of its terminal output.
// Element Plus components are imported where a template uses them, each with its own CSS, so
// the window parses and keeps only what the screens use (the whole library cost ~2 MB of JS
// and CSS held in every WebKit process).
export default defineConfig({
  plugins: [
    vue(),
    Components({
      resolvers: [ElementPlusResolver({ importStyle: "css" })],
      dts: false,
      dirs: [],
    }),
  ],
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: { target: "safari15", outDir: "dist" },
});
