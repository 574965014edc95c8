//! The network catalog from a page (issue 12): `listModels()` and `sdk.models.list()` list every
//! model of the test network with its host count and price range through either relay, and
//! discovery through the catalog finds the same hosts as a DHT lookup; a record a catalog server
//! altered is dropped and the others kept.
#![cfg(target_arch = "wasm32")]

mod support;

use fabstir_sdk::wasm::FabstirSdk;
use js_sys::Array;
use support::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// (id, hosts, lowest price, highest price) of the test network's models (scripts/test-nodes.sh).
const EXPECTED: [(&str, f64, f64, f64); 6] = [
    ("demo-1", 2.0, 3.0, 5.0),
    ("demo-fo", 2.0, 2.0, 2.0),
    ("demo-slow", 1.0, 1.0, 1.0),
    ("limited-1", 1.0, 1.0, 1.0),
    ("load-1", 2.0, 1.0, 2.0),
    ("tiny-llama", 2.0, 1.0, 2.0),
];

/// The test network's models as `listModels()` through `bootstrap` gives them (asked again for
/// up to 20 s until every expected one is there as expected: hosts announce every 40 s and at
/// every change, and a host restarted by a fault test may be announcing again).
async fn listed(bootstrap: &str) -> Vec<JsValue> {
    let sdk = FabstirSdk::new(config_for(bootstrap)).unwrap();
    call(sdk.start()).await.unwrap();
    let give_up = js_sys::Date::now() + 20_000.0;
    loop {
        let models: Vec<JsValue> = Array::from(&call(sdk.list_models()).await.unwrap()).to_vec();
        let shape = |m: &JsValue| {
            (
                get_str(m, "id"),
                get_num(m, "hosts"),
                get_num(m, "minPricePerToken"),
                get_num(m, "maxPricePerToken"),
            )
        };
        let found: Vec<_> = models.iter().map(shape).collect();
        let complete = EXPECTED
            .iter()
            .all(|(id, h, lo, hi)| found.contains(&(id.to_string(), *h, *lo, *hi)));
        if complete || js_sys::Date::now() > give_up {
            call(sdk.stop()).await.unwrap();
            for (id, h, lo, hi) in EXPECTED {
                assert!(
                    found.contains(&(id.to_string(), h, lo, hi)),
                    "through {bootstrap}: {id} with {h} hosts at {lo}..{hi} missing from {found:?}"
                );
            }
            return models;
        }
        gloo_timers::future::sleep(std::time::Duration::from_millis(500)).await;
    }
}

#[wasm_bindgen_test]
async fn list_models_shows_every_model_with_hosts_and_prices_through_either_relay() {
    let began = js_sys::Date::now();
    let models = listed(&node_addr("ws")).await;
    let took = js_sys::Date::now() - began;
    for m in &models {
        assert!(get_num(m, "freeSlots") >= 0.0);
    }
    listed(&node_addr("relay-2")).await;
    console_log!(
        "listModels: {} models through the relay ({took:.0} ms from a new SDK), the same through relay-2",
        models.len()
    );
}

#[wasm_bindgen_test]
async fn models_list_has_the_openai_shape() {
    let sdk = FabstirSdk::new(config_for(&node_addr("ws"))).unwrap();
    call(sdk.start()).await.unwrap();
    let list = call(sdk.models().list()).await.unwrap();
    assert_eq!(get_str(&list, "object"), "list");
    let data = Array::from(&get(&list, "data"));
    let demo = data
        .iter()
        .find(|m| get_str(m, "id") == "demo-1")
        .expect("demo-1 in models.list()");
    assert_eq!(get_str(&demo, "object"), "model");
    assert_eq!(get_str(&demo, "owned_by"), "fabstir");
    assert_eq!(get_num(&demo, "created"), 0.0);
    assert_eq!(get_num(&get(&demo, "fabstir"), "hosts"), 2.0);
    call(sdk.stop()).await.unwrap();
}

#[wasm_bindgen_test]
async fn discovery_through_the_catalog_finds_the_hosts_the_dht_finds() {
    let sdk = FabstirSdk::new(config_for(&node_addr("ws"))).unwrap();
    call(sdk.start()).await.unwrap();
    for model in ["demo-1", "demo-fo", "load-1", "tiny-llama"] {
        let ids = |source: &'static str| {
            let sdk = &sdk;
            async move {
                let began = js_sys::Date::now();
                let nodes = call(sdk.discover_nodes(js_config(&format!(
                    r#"{{ "modelId": "{model}", "source": "{source}" }}"#
                ))))
                .await
                .unwrap_or_else(|e| {
                    panic!("{source} discovery of {model}: {}", get_str(&e, "message"))
                });
                let mut ids: Vec<String> = Array::from(&nodes)
                    .iter()
                    .map(|n| get_str(&n, "peerId"))
                    .collect();
                ids.sort();
                (ids, js_sys::Date::now() - began)
            }
        };
        let (catalog, catalog_ms) = ids("catalog").await;
        let (dht, dht_ms) = ids("dht").await;
        assert_eq!(catalog, dht, "{model}: the catalog and the DHT disagree");
        assert_eq!(catalog.len(), 2, "{model}: {catalog:?}");
        console_log!(
            "{model}: catalog and DHT both found {} hosts (catalog {catalog_ms:.0} ms, DHT {dht_ms:.0} ms, each with probes)",
            catalog.len()
        );
    }
    call(sdk.stop()).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_record_altered_by_a_catalog_server_is_dropped_and_the_others_kept() {
    // fabstir-hostile hands out its catalog with host-a's demo-1 record altered (price 5 → 1,
    // not signed again): from it alone, demo-1 has host-b only, and the page is told why.
    let config = js_config(&format!(
        r#"{{ "debug": {{ "subsystems": ["discovery"] }}, "p2pConfig": {{ "bootstrapNodes": ["{}"] }} }}"#,
        node_addr("hostile")
    ));
    let sdk = FabstirSdk::new(config).unwrap();
    let recorder = Recorder::attach(&sdk, &["p2p:debug"]);
    call(sdk.start()).await.unwrap();
    let give_up = js_sys::Date::now() + 20_000.0;
    let demo = loop {
        let models = Array::from(&call(sdk.list_models()).await.unwrap());
        let demo = models.iter().find(|m| get_str(m, "id") == "demo-1");
        // Wait until the hostile node's catalog holds host-b too (it joined like any node).
        if demo.is_some() || js_sys::Date::now() > give_up {
            break demo.expect("demo-1 listed through the hostile node");
        }
        gloo_timers::future::sleep(std::time::Duration::from_millis(500)).await;
    };
    assert_eq!(
        get_num(&demo, "hosts"),
        1.0,
        "the altered record was not dropped"
    );
    assert_eq!(
        get_num(&demo, "minPricePerToken"),
        3.0,
        "host-b's record, as signed"
    );
    let dropped: Vec<String> = recorder
        .of("p2p:debug")
        .iter()
        .map(|e| get_str(e, "message"))
        .filter(|m| m.contains("dropped a host record"))
        .collect();
    assert!(
        dropped.iter().any(|m| m.contains("signature")),
        "no p2p:debug event says why: {dropped:?}"
    );
    // Another bootstrap node that does not lie restores it.
    let both = FabstirSdk::new(js_config(&format!(
        r#"{{ "p2pConfig": {{ "bootstrapNodes": ["{}", "{}"] }} }}"#,
        node_addr("hostile"),
        node_addr("ws")
    )))
    .unwrap();
    call(both.start()).await.unwrap();
    let models = Array::from(&call(both.list_models()).await.unwrap());
    let demo = models
        .iter()
        .find(|m| get_str(m, "id") == "demo-1")
        .unwrap();
    assert_eq!(get_num(&demo, "hosts"), 2.0);
    assert_eq!(
        get_num(&demo, "maxPricePerToken"),
        5.0,
        "host-a's price as it signed it"
    );
    console_log!(
        "a catalog server's altered record: dropped ({}); the honest relay's copy kept",
        dropped[0]
    );
    call(sdk.stop()).await.unwrap();
    call(both.stop()).await.unwrap();
}
