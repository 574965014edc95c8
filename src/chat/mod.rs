//! Chat completions in the shape of the `openai` npm package: its request parameters turned into
//! a job (see [`params`]), and a job's tokens and end turned into its `ChatCompletionChunk`s and
//! `ChatCompletion` (see [`shape`]).

pub mod params;
pub mod shape;

pub use params::{ChatRequest, FabstirOptions};
pub use shape::{ChatServed, ChatShaper};
