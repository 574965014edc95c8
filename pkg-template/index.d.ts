export * from "./fabstir_sdk.js";
export { initSync } from "./fabstir_sdk.js";
import type { InitOutput } from "./fabstir_sdk.js";

/** Loads the WebAssembly module from next to this file; call once before using the SDK. */
export function init(): Promise<InitOutput>;
/** Loads the WebAssembly module from `url` (or a Response / compiled module). */
export function initAsync(url: string | URL | Request | Response | WebAssembly.Module): Promise<InitOutput>;
export default init;
