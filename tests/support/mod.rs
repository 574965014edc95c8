//! Helpers for the browser tests: node addresses from the test script, configs, event recording.
//! (Each test file uses a different subset.)
#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use fabstir_sdk::wasm::FabstirSdk;
use js_sys::{Function, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// An address (or id) of a test node, handed over by `scripts/test.sh` at compile time.
pub fn node_addr(which: &str) -> String {
    let value = match which {
        "ws" => option_env!("FABSTIR_TEST_RELAY_WS"),
        "webrtc" => option_env!("FABSTIR_TEST_RELAY_WEBRTC"),
        // The same kind of relay in a network namespace of the test script's, off loopback.
        "webrtc-off-loopback" => option_env!("FABSTIR_TEST_NS_RELAY_WEBRTC"),
        "unreachable" => option_env!("FABSTIR_TEST_UNREACHABLE_WS"),
        "text-frames" => option_env!("FABSTIR_TEST_TEXT_WS"),
        "overrun" => option_env!("FABSTIR_TEST_OVERRUN_WS"),
        "host-a" => option_env!("FABSTIR_TEST_HOST_A_WS"),
        "relay-2" => option_env!("FABSTIR_TEST_RELAY2_WS"),
        "hostile" => option_env!("FABSTIR_TEST_HOSTILE_WS"),
        "host-b-id" => option_env!("FABSTIR_TEST_HOST_B_ID"),
        "host-h-id" => option_env!("FABSTIR_TEST_HOST_H_ID"),
        "host-g-id" => option_env!("FABSTIR_TEST_HOST_G_ID"),
        "host-i-id" => option_env!("FABSTIR_TEST_HOST_I_ID"),
        // Page keys (base64 protobuf) and their peer ids, which guard-allow's allowlist and
        // guard-block's blocklist hold.
        "page-allowed-key" => option_env!("FABSTIR_TEST_PAGE_ALLOWED_KEY"),
        "page-allowed-id" => option_env!("FABSTIR_TEST_PAGE_ALLOWED_ID"),
        "page-blocked-key" => option_env!("FABSTIR_TEST_PAGE_BLOCKED_KEY"),
        _ => None,
    };
    value.map(str::to_string).unwrap_or_else(|| {
        panic!(
            "FABSTIR_TEST_* addresses are not set: run the browser tests through scripts/test.sh"
        )
    })
}

/// Whether the tests run in Firefox (`scripts/test.sh` runs them in Chromium, then Firefox).
pub fn in_firefox() -> bool {
    web_sys::window()
        .and_then(|w| w.navigator().user_agent().ok())
        .is_some_and(|ua| ua.contains("Firefox"))
}

/// Whether this browser has WebRTC (Debian's WebKitGTK, which the suite also runs, has none:
/// `RTCPeerConnection` is not defined).
pub fn has_webrtc() -> bool {
    js_sys::Reflect::has(&js_sys::global(), &"RTCPeerConnection".into()).unwrap_or(false)
}

/// `start()` with `config` fails with `code`, and its message says each of `parts`; the message.
pub async fn start_fails_saying(config: JsValue, code: &str, parts: &[&str]) -> String {
    let sdk = FabstirSdk::new(config).unwrap();
    let err = call(sdk.start()).await.unwrap_err();
    let message = get_str(&err, "message");
    assert_eq!(get_str(&err, "code"), code, "{message}");
    for part in parts {
        assert!(
            message.contains(part),
            "the error does not say {part:?}: {message}"
        );
    }
    message
}

/// In a browser without WebRTC: `start()` against the WebRTC-direct address `bootstrap` fails at
/// once with `BOOTSTRAP_FAILED`, saying the browser has no WebRTC and naming the way out.
pub async fn assert_webrtc_refused(bootstrap: &str) {
    let says = "this browser has no WebRTC (RTCPeerConnection is not defined)";
    let way_out = "dial the node's /ws address";
    start_fails_saying(config_for(bootstrap), "BOOTSTRAP_FAILED", &[says, way_out]).await;
    wasm_bindgen_test::console_log!("no WebRTC in this browser: refused, saying so");
}

/// The relay's peer id (the last `/p2p/` component of its address).
pub fn peer_of(addr: &str) -> String {
    addr.rsplit("/p2p/").next().unwrap_or_default().to_string()
}

/// A JS config object parsed from JSON text, exactly as a page would pass it.
pub fn js_config(json: &str) -> JsValue {
    JSON::parse(json).unwrap()
}

/// A config with one bootstrap node and fast retries.
pub fn config_for(bootstrap: &str) -> JsValue {
    js_config(&format!(
        r#"{{ "p2pConfig": {{ "bootstrapNodes": ["{bootstrap}"], "dialTimeout": 20000, "retryDelay": 200, "maxRetries": 2 }} }}"#
    ))
}

/// A config with one bootstrap node and no failover (a job whose host fails, fails).
pub fn without_failover(bootstrap: &str) -> JsValue {
    js_config(&format!(
        r#"{{ "p2pConfig": {{ "bootstrapNodes": ["{bootstrap}"], "failover": {{ "enabled": false }} }} }}"#
    ))
}

/// A method of a JS object.
pub fn method(object: &JsValue, name: &str) -> Function {
    get(object, name).dyn_into().unwrap()
}

/// Calls `object.name(args...)` and awaits the promise it returns (e.g. a `Job`'s `text()`).
pub async fn call_method(
    object: &JsValue,
    name: &str,
    args: &[JsValue],
) -> Result<JsValue, JsValue> {
    let promise: js_sys::Promise = method(object, name)
        .apply(object, &args.iter().cloned().collect::<js_sys::Array>())
        .unwrap()
        .dyn_into()
        .unwrap();
    call(promise).await
}

/// Dials `address` and returns the peer id it resolves to.
pub async fn dial(sdk: &FabstirSdk, address: String) -> String {
    call(sdk.dial(address)).await.unwrap().as_string().unwrap()
}

/// Awaits a promise-returning SDK call.
pub async fn call(promise: js_sys::Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(promise).await
}

/// A string property of a JS object.
pub fn get_str(value: &JsValue, key: &str) -> String {
    Reflect::get(value, &key.into())
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// A number property of a JS object (NaN when missing).
pub fn get_num(value: &JsValue, key: &str) -> f64 {
    Reflect::get(value, &key.into())
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(f64::NAN)
}

/// A property of a JS object.
pub fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// Records every event of the given names that an SDK emits.
pub struct Recorder {
    pub events: Rc<RefCell<Vec<JsValue>>>,
    _callback: Closure<dyn FnMut(JsValue)>,
}

impl Recorder {
    pub fn attach(sdk: &FabstirSdk, names: &[&str]) -> Recorder {
        let events = Rc::new(RefCell::new(Vec::new()));
        let sink = events.clone();
        let callback =
            Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| sink.borrow_mut().push(e));
        for name in names {
            sdk.on(
                name.to_string(),
                callback.as_ref().unchecked_ref::<Function>().clone(),
            )
            .unwrap();
        }
        Recorder {
            events,
            _callback: callback,
        }
    }

    /// The recorded events of one name.
    pub fn of(&self, name: &str) -> Vec<JsValue> {
        self.events
            .borrow()
            .iter()
            .filter(|e| get_str(e, "type") == name)
            .cloned()
            .collect()
    }

    /// The messages of the recorded `p2p:debug` events that contain `part`.
    pub fn debug_messages(&self, part: &str) -> Vec<String> {
        self.of("p2p:debug")
            .iter()
            .map(|e| get_str(e, "message"))
            .filter(|m| m.contains(part))
            .collect()
    }

    /// Waits until an event of `name` arrived, up to `limit`.
    pub async fn wait_for(&self, name: &str, limit: Duration) -> JsValue {
        let deadline = web_time::Instant::now() + limit;
        loop {
            if let Some(e) = self.of(name).into_iter().next() {
                return e;
            }
            assert!(
                web_time::Instant::now() < deadline,
                "no {name} event within {limit:?}"
            );
            gloo_timers::future::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Finds the entry for `peer` in `getConnectedPeers()`.
pub async fn connected_peer(sdk: &FabstirSdk, peer: &str) -> Option<JsValue> {
    let peers: js_sys::Array = call(sdk.get_connected_peers()).await.unwrap().into();
    peers.iter().find(|p| get_str(p, "peerId") == peer)
}

/// Prints the SDK's `p2p:debug` events with the ms since `t0` (keep the returned closure alive).
pub fn log_debug_events(sdk: &FabstirSdk, t0: f64) -> Closure<dyn FnMut(JsValue)> {
    let log = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        web_sys::console::log_1(
            &format!(
                "{:>6.0} ms {}: {}",
                js_sys::Date::now() - t0,
                get_str(&e, "subsystem"),
                get_str(&e, "message")
            )
            .into(),
        );
    });
    sdk.on("p2p:debug".into(), log.as_ref().clone().into())
        .unwrap();
    log
}

/// The peer id of a test host by name (`host-a`, `host-b`).
pub fn host_id(name: &str) -> String {
    match name {
        "host-a" => peer_of(&node_addr("host-a")),
        "host-b" => node_addr("host-b-id"),
        "host-g" => node_addr("host-g-id"),
        "host-h" => node_addr("host-h-id"),
        other => panic!("no test host named {other}"),
    }
}

/// Checks that discovery of `model` found exactly the test hosts `expected` (by name), in that
/// order, and says which live host is missing (or which was not expected) when not.
pub fn assert_hosts(found: &[String], expected: &[&str], model: &str) {
    let name_of = |id: &String| {
        ["host-a", "host-b"]
            .into_iter()
            .find(|n| &host_id(n) == id)
            .map(str::to_string)
            .unwrap_or_else(|| id.clone())
    };
    let found_names: Vec<String> = found.iter().map(name_of).collect();
    let missing: Vec<&&str> = expected
        .iter()
        .filter(|n| !found_names.iter().any(|f| f == *n))
        .collect();
    assert!(
        missing.is_empty(),
        "discovery of {model} missed live host(s) {missing:?} (found {found_names:?}); \
         host-b is the relayed one: is its relay reservation in place?"
    );
    assert_eq!(
        found_names, expected,
        "discovery of {model} found other hosts or another order"
    );
}

/// Asks the fault injector of scripts/test-nodes.sh (scripts/fault-control.py on
/// 127.0.0.1:29190: `kill?peer=…`, `kill?name=…`, `start?name=…`) and returns its JSON answer.
pub async fn fault(query: &str) -> JsValue {
    let fetch = Function::new_with_args(
        "q",
        "return fetch('http://127.0.0.1:29190/' + q).then(r => r.json())",
    );
    let promise: js_sys::Promise = fetch.call1(&JsValue::NULL, &query.into()).unwrap().into();
    let answer = JsFuture::from(promise).await.unwrap();
    assert!(
        get(&answer, "error").is_undefined(),
        "fault injector: {}",
        get_str(&answer, "error")
    );
    answer
}
