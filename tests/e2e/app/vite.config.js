// The SDK loads its .wasm with `new URL(..., import.meta.url)`, which Vite's production build
// emits as an asset; the dev server's dependency pre-bundling would break that, so exclude it.
export default {
  optimizeDeps: { exclude: ["fabstir-sdk"] },
  build: { target: "es2022" },
};
