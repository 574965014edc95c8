// The same app bundled by webpack 5 (its production build): the SDK's
// `new URL("fabstir_sdk_bg.wasm", import.meta.url)` becomes an emitted asset, and main.js's
// top-level await is an async module. Built into dist-webpack/ beside Vite's dist/.
import { fileURLToPath } from "node:url";

export default {
  mode: "production",
  target: "web",
  entry: "./main.js",
  output: {
    path: fileURLToPath(new URL("./dist-webpack", import.meta.url)),
    filename: "main.js",
    clean: true,
  },
  experiments: { topLevelAwait: true },
  performance: { hints: false },
};
