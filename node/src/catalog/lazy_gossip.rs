//! Lazy gossip its receivers accept: each IHAVE (and IWANT) a node sends lists at most
//! [`MAX_IDS`] message ids.
//!
//! Upstream cause: libp2p-gossipsub 0.50 bounds the IHAVE it sends by count only
//! (`max_control_messages_sent`, 5,000 ids by default), while its receiving codec refuses an RPC
//! longer than `max_transmit_size` (ours: an announcement's bound plus 1 KiB, 17,408 B) or whose
//! control part exceeds `max_control_message_size` (16 KiB). A default message id is the
//! publisher's base58 peer id and a decimal sequence number, about 71 bytes, so an IHAVE of more
//! than about 220 ids is refused. The refusal is silent for the sender: the receiver drops its
//! inbound stream ("Failed to read from inbound stream ... exceeds maximum") and reads nothing
//! more the sender writes on it, and the sender keeps writing there until the connection
//! closes, its own announcements included.
//!
//! A node gossips the ids of the last three heartbeats' messages to the topic peers outside its
//! mesh, so this struck as soon as more than ~220 hosts announced within three seconds (hosts
//! started together, a relay restarted). Measured with 500 hosts keeping the catalog on 3 relays
//! (`fabstir-catalog-scale`, bench step 8): the relays cut 393 hosts' feeds, and 14 to 18 hosts
//! whose re-announcements never reached any relay left every catalog when their first
//! announcement expired (482 of 500 held; 982 of 1,000).
//!
//! With [`MAX_IDS`] an IHAVE stays under 16 KiB for any peer id; gossipsub picks the ids at
//! random per peer when it has more, so lazy gossip still covers every message across peers and
//! heartbeats. The eager path (mesh, explicit peers between relays, a host's flood publish) is
//! not affected.

use libp2p::gossipsub::ConfigBuilder;

/// The most message ids in one IHAVE or IWANT: 200 × (73 bytes, the longest default id, plus 2
/// bytes of framing) + the envelope stays under gossipsub's 16 KiB of control bytes per RPC and
/// our 17,408-byte RPC bound.
pub const MAX_IDS: usize = 200;

/// Bounds `builder`'s lazy gossip to [`MAX_IDS`] ids per message.
pub fn bound(builder: &mut ConfigBuilder) -> &mut ConfigBuilder {
    builder.max_control_messages_sent(MAX_IDS)
}
