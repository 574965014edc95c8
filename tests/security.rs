//! Browser tests of security: a dial to the wrong peer id is refused (Noise authenticates the
//! peer id, also through the relay); `p2pConfig.security` allowlist, blocklist and the page's
//! `authenticate` callback decide which hosts are used; bad values are `INVALID_CONFIG`.
#![cfg(target_arch = "wasm32")]

mod support;

use std::cell::RefCell;
use std::rc::Rc;

use fabstir_protocol::demo::demo_text;
use fabstir_sdk::wasm::FabstirSdk;
use js_sys::{Array, Function};
use support::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn host_a() -> String {
    peer_of(&node_addr("host-a"))
}

/// A started SDK and what it reported: its connections and debug events, which a failure prints.
struct Page {
    sdk: FabstirSdk,
    events: Recorder,
}

impl std::ops::Deref for Page {
    type Target = FabstirSdk;

    fn deref(&self) -> &FabstirSdk {
        &self.sdk
    }
}

/// Starts an SDK whose `p2pConfig.security` is `security` (a JS object).
async fn sdk_with(security: &JsValue) -> Page {
    let config = config_for(&node_addr("ws"));
    let p2p = get(&config, "p2pConfig");
    js_sys::Reflect::set(&p2p, &"security".into(), security).unwrap();
    let sdk = FabstirSdk::new(config).unwrap();
    let events = Recorder::attach(&sdk, &["peer:connect", "peer:disconnect", "p2p:debug"]);
    call(sdk.start()).await.unwrap();
    Page { sdk, events }
}

async fn hosts_of_demo_1(page: &Page) -> Vec<String> {
    let asked = page.discover_nodes(js_config(
        r#"{ "modelId": "demo-1", "forceRefresh": true }"#,
    ));
    let nodes: Array = match call(asked).await {
        Ok(nodes) => nodes.into(),
        Err(e) => {
            let events = page.events.events.borrow();
            let said: Vec<String> = events
                .iter()
                .map(|e| {
                    js_sys::JSON::stringify(e)
                        .map(String::from)
                        .unwrap_or_default()
                })
                .collect();
            panic!(
                "discoverNodes failed: {}\nthe page's events:\n{}",
                get_str(&e, "message"),
                said.join("\n")
            );
        }
    };
    nodes.iter().map(|n| get_str(&n, "peerId")).collect()
}

#[wasm_bindgen_test]
async fn a_dial_to_the_wrong_peer_id_is_refused() {
    let sdk = FabstirSdk::new(config_for(&node_addr("ws"))).unwrap();
    call(sdk.start()).await.unwrap();
    // Host-a's real address with host-b's peer id: Noise proves who answered, so it is refused.
    let address = node_addr("host-a").replace(&host_a(), &node_addr("host-b-id"));
    let err = call(sdk.dial(address)).await.unwrap_err();
    let message = get_str(&err, "message");
    assert_eq!(get_str(&err, "code"), "DIAL_FAILED", "{message}");
    assert!(
        message.to_lowercase().contains("peer id"),
        "the error says the peer id was wrong: {message}"
    );
    // And through the relay: host-a's id at a circuit address that leads nowhere near it.
    let relay = node_addr("ws");
    let circuit = format!("{relay}/p2p-circuit/p2p/{}", host_a());
    let err = call(sdk.dial(circuit)).await.unwrap_err();
    assert_eq!(get_str(&err, "code"), "DIAL_FAILED");
}

#[wasm_bindgen_test]
async fn blocklist_and_allowlist_choose_the_hosts() {
    let host_b = node_addr("host-b-id");
    let blocked = sdk_with(&js_config(&format!(r#"{{ "blocklist": ["{host_b}"] }}"#))).await;
    assert_hosts(
        &hosts_of_demo_1(&blocked).await,
        &["host-a"],
        "demo-1, host-b blocked",
    );
    let err = call(blocked.get_node_info(host_b.clone()))
        .await
        .unwrap_err();
    assert_eq!(
        get_str(&err, "code"),
        "NOT_CONNECTED",
        "a blocked host is never connected"
    );
    let job = call(blocked.submit_job_with_negotiation(js_config(
        r#"{ "modelId": "demo-1", "prompt": "blocked b", "maxTokens": 20, "maxPrice": 5 }"#,
    )))
    .await
    .unwrap();
    assert_eq!(
        get_str(&job, "nodeId"),
        host_a(),
        "host-b is cheaper but blocked"
    );
    assert_eq!(
        call_method(&job, "text", &[])
            .await
            .unwrap()
            .as_string()
            .unwrap(),
        demo_text(11, "blocked b", 20)
    );

    let allowed = sdk_with(&js_config(&format!(r#"{{ "allowlist": ["{host_b}"] }}"#))).await;
    assert_hosts(
        &hosts_of_demo_1(&allowed).await,
        &["host-b"],
        "demo-1, only host-b allowed",
    );
}

#[wasm_bindgen_test]
async fn the_authenticate_callback_decides_and_may_be_async() {
    let asked: Rc<RefCell<Vec<String>>> = Rc::default();
    let record = asked.clone();
    let refused = host_a();
    let callback = Closure::<dyn Fn(String) -> js_sys::Promise>::new(move |peer: String| {
        record.borrow_mut().push(peer.clone());
        let ok = peer != refused;
        // Answers later, as a page asking its server would.
        js_sys::Promise::new(&mut |resolve, _| {
            let later = Closure::once_into_js(move || {
                resolve.call1(&JsValue::NULL, &ok.into()).unwrap();
            });
            web_sys::window()
                .unwrap()
                .set_timeout_with_callback_and_timeout_and_arguments_0(later.unchecked_ref(), 20)
                .unwrap();
        })
    });
    let security = js_sys::Object::new();
    js_sys::Reflect::set(&security, &"authenticate".into(), callback.as_ref()).unwrap();
    let sdk = sdk_with(&security).await;
    assert_hosts(
        &hosts_of_demo_1(&sdk).await,
        &["host-b"],
        "demo-1, host-a refused by authenticate",
    );
    let asked_now = asked.borrow().clone();
    assert!(asked_now.contains(&host_a()), "{asked_now:?}");
    assert!(asked_now.contains(&node_addr("host-b-id")), "{asked_now:?}");
    let before = asked.borrow().len();
    hosts_of_demo_1(&sdk).await;
    assert_eq!(
        asked.borrow().len(),
        before,
        "answers are kept for discoveryCacheTtl"
    );

    // A callback that throws refuses every host.
    let throwing = Function::new_with_args("peerId", "throw new Error('no ' + peerId)");
    let security = js_sys::Object::new();
    js_sys::Reflect::set(&security, &"authenticate".into(), &throwing).unwrap();
    let sdk = sdk_with(&security).await;
    assert!(hosts_of_demo_1(&sdk).await.is_empty());
    let err = call(sdk.submit_job_with_negotiation(js_config(
        r#"{ "modelId": "demo-1", "prompt": "p", "maxTokens": 5, "maxPrice": 9 }"#,
    )))
    .await
    .unwrap_err();
    assert_eq!(get_str(&err, "code"), "NO_NODES_AVAILABLE");
    drop(callback);
}

#[wasm_bindgen_test]
fn bad_security_values_name_their_field() {
    let relay = peer_of(&node_addr("ws"));
    for (security, field) in [
        (
            r#"{ "blocklist": ["nope"] }"#.to_string(),
            "p2pConfig.security.blocklist[0]",
        ),
        (
            r#"{ "allowlist": [1] }"#.to_string(),
            "p2pConfig.security.allowlist[0]",
        ),
        (
            format!(r#"{{ "blocklist": ["{relay}"] }}"#),
            "p2pConfig.security.blocklist[0]",
        ),
        (
            r#"{ "authenticate": "yes" }"#.to_string(),
            "p2pConfig.security.authenticate",
        ),
        (r#"{ "allowList": [] }"#.to_string(), "p2pConfig.security"),
    ] {
        let config = config_for(&node_addr("ws"));
        js_sys::Reflect::set(
            &get(&config, "p2pConfig"),
            &"security".into(),
            &js_config(&security),
        )
        .unwrap();
        let err = FabstirSdk::new(config).err().unwrap();
        assert_eq!(get_str(&err, "code"), "INVALID_CONFIG", "{security}");
        assert!(
            get_str(&err, "message").contains(field),
            "{security}: {}",
            get_str(&err, "message")
        );
    }
}
