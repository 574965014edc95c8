//! TypeScript declarations of the network catalog's answers (`listModels()`, `sdk.models.list()`);
//! `scripts/check-types.sh` proves a `models.list()` entry assignable to the `openai` package's
//! `Model`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const CATALOG_TYPES: &'static str = r#"
/** One model of the network catalog (`listModels()`), from host records checked against their
 * hosts' signatures. */
export interface CatalogModel {
  id: string;
  /** Hosts that serve it. */
  hosts: number;
  /** The lowest and highest price per generated token among them. */
  minPricePerToken: number;
  maxPricePerToken: number;
  /** Job slots free on those hosts when they last announced. */
  freeSlots: number;
}

/** One host's record in the catalog, as the host signed it (checked in the page). */
export interface CatalogHost {
  peerId: string;
  /** What a page dials (`/p2p-circuit` addresses for a host reachable only through a relay). */
  addresses: string[];
  models: { id: string; pricePerToken: number; pricePerPromptToken?: number; maxTokens: number; contextTokens?: number; backend: "demo" | "openai" }[];
  maxConcurrentJobs: number;
  /** Jobs running when the host last announced (it announces changes within about a second). */
  currentLoad: number;
  version: string;
  /** Grows with every announcement of the host. */
  seq: number;
  /** When the record stops counting (ms since the epoch). */
  expiresAt: number;
}

/** `sdk.models.list()`: the `openai` package's `models.list()` shape, plus our figures. */
export interface ModelList {
  object: "list";
  data: { id: string; object: "model"; /** Unknown: 0. */ created: number; owned_by: "fabstir"; fabstir: CatalogModel }[];
}
"#;
