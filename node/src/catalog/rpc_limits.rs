//! Gossipsub RPCs that their receivers accept: a node accepts frames of up to [`MAX_RPC_BYTES`]
//! and sends at most [`MAX_IDS`] message ids in one IHAVE or IWANT.
//!
//! Two upstream causes in libp2p-gossipsub 0.50, both ending the same way: the receiving codec
//! refuses what it reads, the handler drops that inbound stream ("Failed to read from inbound
//! stream ... exceeds maximum") and reads nothing more the peer sends on it, while the peer
//! keeps writing there until the connection closes, its own announcements included. Nothing
//! tells the sender.
//!
//! 1. The codec checks the length of its whole read buffer, not of the frame it decodes,
//!    against `max_transmit_size` (`validate_rpc_limits` in its `protocol.rs`). The buffer holds
//!    the frame being read plus up to one read of what follows it (asynchronous-codec reads
//!    8 KiB at a time), so a frame longer than `max_transmit_size` − 8 KiB followed closely by
//!    others is refused: an announcement near its 16 KiB bound in a burst, or an IHAVE. We
//!    accept frames up to the largest we send (an announcement's bound plus 1 KiB of envelope)
//!    plus [`READ_BYTES`].
//! 2. It bounds the IHAVE it sends by count only (`max_control_messages_sent`, 5,000 ids),
//!    while a receiver refuses more than 16 KiB of control messages in one RPC
//!    (`max_control_message_size`). A default message id (the publisher's base58 peer id and a
//!    decimal sequence number) is about 73 bytes on the wire, so an IHAVE of more than ~220 ids
//!    is refused. A node gossips the ids of its last three heartbeats' messages to topic peers
//!    outside its mesh: any burst of more than ~220 announcements set it off.
//!
//! Measured with 500 hosts keeping the catalog on 3 relays (`fabstir-catalog-scale`, bench step
//! 8), before: the relays cut 393 hosts' feeds, and 14–18 hosts whose later announcements never
//! reached any relay left every catalog when their first one expired (482 of 500 held; 982 of
//! 1,000). With [`MAX_IDS`] alone, the test `gossip_ihave` still lost messages on a busy
//! machine (frames of 18,616–18,914 B read, an IHAVE and the messages after it): cause 1.

use fabstir_protocol::catalog::MAX_ANNOUNCEMENT_BYTES;
use libp2p::gossipsub::ConfigBuilder;

/// What asynchronous-codec reads at a time after a frame's start (its `INITIAL_CAPACITY`).
pub const READ_BYTES: usize = 8 * 1024;

/// The longest gossipsub frame a node accepts: the largest it sends (an announcement and 1 KiB
/// of envelope) plus one read of what may follow it (cause 1 above).
pub const MAX_RPC_BYTES: usize = MAX_ANNOUNCEMENT_BYTES + 1024 + READ_BYTES;

/// The most message ids in one IHAVE or IWANT: 200 × (73 bytes, the longest default id, plus 2
/// bytes of framing) + the envelope stays under gossipsub's 16 KiB of control bytes per RPC
/// (cause 2). Gossipsub picks the ids at random per peer when it has more, so lazy gossip still
/// covers every message across peers and heartbeats.
pub const MAX_IDS: usize = 200;

/// Sets both bounds on `builder`.
pub fn bound(builder: &mut ConfigBuilder) -> &mut ConfigBuilder {
    builder
        .max_transmit_size(MAX_RPC_BYTES)
        .max_control_messages_sent(MAX_IDS)
}
