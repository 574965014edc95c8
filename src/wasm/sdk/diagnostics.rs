//! `FabstirSDK`'s diagnostics: the health report, connectivity checks and performance tests.

use super::*;

#[wasm_bindgen(js_class = FabstirSDK)]
impl FabstirSdk {
    /// A report on the SDK's state: connections, discovery, jobs, measured performance, and
    /// issues with recommendations. Works before `start()` too (then `unhealthy`).
    #[wasm_bindgen(js_name = getSystemHealthReport, unchecked_return_type = "Promise<HealthReport>")]
    pub fn get_system_health_report(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let client = match &*inner.state.borrow() {
                State::Running(c) => Some(c.clone()),
                _ => None,
            };
            let report = match client {
                Some(c) => crate::diagnostics::health::health_report(c.market()).await,
                None => Ok(crate::diagnostics::health::stopped_report(
                    // Empty until a kept key was read (`identity.persist`).
                    inner
                        .key
                        .borrow()
                        .as_ref()
                        .map(|k| k.public().to_peer_id().to_string())
                        .unwrap_or_default(),
                    inner.config.enable_dht,
                )),
            };
            to_value(report)
        })
    }

    /// Live checks: each bootstrap node dialed and pinged, a DHT lookup (done by the bootstrap
    /// nodes), and how this browser is reachable.
    #[wasm_bindgen(js_name = testP2PConnectivity, unchecked_return_type = "Promise<ConnectivityReport>")]
    pub fn test_p2p_connectivity(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let client = inner.client().map_err(to_js)?;
            to_value(crate::diagnostics::health::connectivity(client.market()).await)
        })
    }

    /// Round trip and throughput to a connected node over `/fabstir/perf/1.0.0` (default 1 MiB
    /// each way, at most 16 MiB).
    #[wasm_bindgen(js_name = testNetworkPerformance, unchecked_return_type = "Promise<PerfReport>")]
    pub fn test_network_performance(
        &self,
        #[wasm_bindgen(js_name = peerId)] peer_id: String,
        #[wasm_bindgen(unchecked_param_type = "PerfOptions | undefined")] options: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let peer = parse_peer_id(&peer_id)?;
            let options: crate::diagnostics::perf::PerfOptions =
                if options.is_undefined() || options.is_null() {
                    crate::diagnostics::perf::PerfOptions::default()
                } else {
                    options_from_js("options", options)?
                };
            let client = inner.client().map_err(to_js)?;
            to_value(
                crate::diagnostics::perf::network_performance(client.net(), peer, options).await,
            )
        })
    }
}
