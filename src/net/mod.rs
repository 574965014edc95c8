//! The network room: building the swarm (transports, including our own browser WebSocket and
//! WebRTC-direct ones, and the behaviour), the event loop that owns it and the commands it takes,
//! peers, ping, reconnecting, retries of dropped streams and the runtime shims. It knows nothing
//! of the marketplace; it may use only `config`, `error` and `events`.

pub mod backoff;
pub mod behaviour;
pub mod dial_order;
pub mod dropped;
pub mod event_loop;
pub mod handle;
pub mod join;
pub mod later;
pub mod peers;
pub mod ping;
pub mod reconnect;
pub mod refusal;
pub mod reserve_later;
pub mod rt;
pub mod sdp;
pub mod transport;
#[cfg(target_arch = "wasm32")]
pub mod webrtc_direct;
pub mod websocket;
