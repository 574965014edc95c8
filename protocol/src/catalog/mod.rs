//! The network catalog (issue 12): hosts announce themselves on the gossipsub topic
//! [`TOPIC`] with a signed [`Announcement`], and every node keeps the newest valid one per host in
//! a [`Catalog`].
//!
//! An announcement travels as a libp2p signed envelope (domain [`ENVELOPE_DOMAIN`], payload type
//! [`PAYLOAD_TYPE`]) signed by the host's own identity key, so it stays verifiable after it has
//! left gossipsub: a browser that gets it from a bootstrap node checks it itself, and a node can
//! hide a host but not invent or alter one.

pub mod opened;
pub mod record;
pub mod store;
pub mod watch;
pub mod wire;

pub use opened::Opened;
pub use record::{open, seal, Announcement, CatalogError};
pub use store::{Catalog, Entry, Inserted, ModelSummary};
pub use watch::{Applied, WatchView};
pub use wire::{CatalogFrame, CatalogRequest, HostFilter, ProviderHint, PROTOCOL};

/// The gossipsub topic hosts announce themselves on.
pub const TOPIC: &str = "fabstir/hosts/1";

/// The signed envelope's domain separation string for host announcements.
pub const ENVELOPE_DOMAIN: &str = "fabstir-host-announcement";

/// The signed envelope's payload type for host announcements.
pub const PAYLOAD_TYPE: &[u8] = b"/fabstir/host-announcement/1";

/// The largest sealed announcement accepted, in bytes.
pub const MAX_ANNOUNCEMENT_BYTES: usize = 16 * 1024;

/// How far ahead an announcement may expire: a host announces again before that.
pub const MAX_TTL_MS: u64 = 10 * 60 * 1000;

/// The most models one announcement may list.
pub const MAX_MODELS: usize = 64;

/// The most addresses one announcement may list.
pub const MAX_ADDRESSES: usize = 16;

/// The longest address (as text) accepted in an announcement.
pub const MAX_ADDRESS_LEN: usize = 512;

/// The most hosts a catalog keeps; an announcement from a new host beyond that is refused.
pub const MAX_HOSTS: usize = 4096;
