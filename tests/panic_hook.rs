//! Browser test of the panic hook: a panic anywhere in the SDK's wasm reaches the page as
//! `error:p2p` with code `INTERNAL`. Its own file (its own wasm instance): after a panic the
//! instance is not trusted again. `scripts/test.sh` fails the suite on any other panic.
#![cfg(target_arch = "wasm32")]

mod support;

use std::time::Duration;

use fabstir_sdk::wasm::FabstirSdk;
use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn a_panic_reaches_error_p2p_listeners_as_internal() {
    let sdk = FabstirSdk::new(config_for(
        "/ip4/127.0.0.1/tcp/1/ws/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN",
    ))
    .unwrap();
    let recorder = Recorder::attach(&sdk, &["error:p2p"]);
    wasm_bindgen_futures::spawn_local(async {
        panic!("deliberate panic for the hook test");
    });
    let event = recorder.wait_for("error:p2p", Duration::from_secs(5)).await;
    assert_eq!(get_str(&event, "code"), "INTERNAL");
    let message = get_str(&event, "message");
    assert!(
        message.contains("deliberate panic for the hook test"),
        "{message}"
    );
}
