// The package's entry point: the generated bindings plus two explicit ways to load the wasm.
import initBindings, { initSync } from "./fabstir_sdk.js";

export * from "./fabstir_sdk.js";
export { initSync };

/**
 * Loads and instantiates the WebAssembly module from next to this file (bundlers such as Vite
 * and webpack emit it as an asset). Call once before using the SDK; later calls return the same
 * module.
 */
export function init() {
  return initBindings();
}

/** Like `init()`, but from an explicit URL (or a `Response`, or a compiled `WebAssembly.Module`). */
export function initAsync(url) {
  return initBindings({ module_or_path: url });
}

export default init;
