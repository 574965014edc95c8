//! Over-limit requests get typed rejections from the host (host-f of scripts/test-nodes.sh: 1 KiB
//! prompts, 2 jobs per client peer, 5 requests per peer then one a minute), and the SDK refuses
//! what no host may accept before sending it.
#![cfg(target_arch = "wasm32")]

mod support;

use fabstir_sdk::wasm::FabstirSdk;
use support::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn limited(prompt: &str, max_tokens: u32) -> JsValue {
    js_config(&format!(
        r#"{{ "modelId": "limited-1", "prompt": "{prompt}", "maxTokens": {max_tokens}, "maxPrice": 1 }}"#
    ))
}

async fn rejection(sdk: &FabstirSdk, request: JsValue) -> (String, String) {
    let err = call(sdk.submit_job_with_negotiation(request))
        .await
        .unwrap_err();
    (get_str(&err, "code"), get_str(&err, "message"))
}

#[wasm_bindgen_test]
async fn over_limit_requests_are_refused_with_typed_reasons() {
    let sdk = FabstirSdk::new(config_for(&node_addr("ws"))).unwrap();
    call(sdk.start()).await.unwrap();

    // Beyond what any host may take: refused by the SDK itself, naming the field.
    let (code, message) = rejection(&sdk, limited(&"x".repeat(40_000), 10)).await;
    assert_eq!(code, "INVALID_ARGUMENT");
    assert!(message.contains("prompt"), "{message}");

    // Request 1: over this host's 1 KiB prompt limit.
    let (code, message) = rejection(&sdk, limited(&"x".repeat(2000), 10)).await;
    assert_eq!(code, "NODE_REJECTED", "{message}");
    assert!(message.contains("prompt_too_large"), "{message}");

    // Requests 2-4: two long jobs, then a third for the same peer.
    let a = call(sdk.submit_job_with_negotiation(limited("a", 4000)))
        .await
        .unwrap();
    let b = call(sdk.submit_job_with_negotiation(limited("b", 4000)))
        .await
        .unwrap();
    let (code, message) = rejection(&sdk, limited("c", 10)).await;
    assert_eq!(code, "NODE_REJECTED", "{message}");
    assert!(message.contains("peer_limit"), "{message}");
    for job in [&a, &b] {
        call_method(job, "cancel", &[]).await.unwrap();
    }

    // Request 5 uses the last of the burst; request 6 is over the rate.
    let d = call(sdk.submit_job_with_negotiation(limited("d", 5)))
        .await
        .unwrap();
    call_method(&d, "text", &[]).await.unwrap();
    let (code, message) = rejection(&sdk, limited("e", 5)).await;
    assert_eq!(code, "NODE_REJECTED", "{message}");
    assert!(message.contains("rate_limited"), "{message}");

    // The limits are per peer: another SDK instance (another peer id) is served.
    let other = FabstirSdk::new(config_for(&node_addr("ws"))).unwrap();
    call(other.start()).await.unwrap();
    let job = call(other.submit_job_with_negotiation(limited("f", 5)))
        .await
        .unwrap();
    call_method(&job, "text", &[]).await.unwrap();
}
