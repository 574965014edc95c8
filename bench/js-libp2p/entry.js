// The JavaScript libp2p stack with what our SDK has in a browser: WebSocket, WebRTC-direct and
// circuit relay transports, Noise, Yamux, identify and ping. scripts/bench.sh bundles it with
// esbuild for the browser (minified ESM) as the side-by-side page's jslibp2p.js.
import { createLibp2p } from "libp2p";
import { webSockets } from "@libp2p/websockets";
import { webRTCDirect } from "@libp2p/webrtc";
import { circuitRelayTransport } from "@libp2p/circuit-relay-v2";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { ping } from "@libp2p/ping";
import { multiaddr } from "@multiformats/multiaddr";

export { multiaddr };

/** A started node. Its connection gater allows dialing 127.0.0.1 (a browser build denies
 *  private addresses by default). */
export function node() {
  return createLibp2p({
    transports: [webSockets(), webRTCDirect(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ping: ping() },
    connectionGater: { denyDialMultiaddr: () => false },
  });
}
