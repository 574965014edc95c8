//! Browser tests of `submitJobWithRetry`'s rules: what is not retried, giving up after
//! `maxRetries` with jittered exponential waits, and bad options. (Retrying until a host comes
//! back is a fault test in faults.rs.)
#![cfg(target_arch = "wasm32")]

mod support;

use fabstir_sdk::wasm::FabstirSdk;
use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn retries_only_what_may_pass_and_gives_up_after_max_retries() {
    let sdk = FabstirSdk::new(config_for(&node_addr("ws"))).unwrap();
    let recorder = Recorder::attach(&sdk, &["job:retry"]);
    call(sdk.start()).await.unwrap();

    // A price no host accepts is the request's fault: no retry.
    let err = call(sdk.submit_job_with_retry(
        js_config(r#"{ "modelId": "demo-1", "prompt": "p", "maxTokens": 5, "maxPrice": 1 }"#),
        js_config(r#"{ "maxRetries": 3, "initialDelay": 10 }"#),
    ))
    .await
    .unwrap_err();
    assert_eq!(get_str(&err, "code"), "PRICE_TOO_HIGH");
    assert!(recorder.of("job:retry").is_empty());

    // No host of a model: retried maxRetries times, each wait in [d/2, d], d doubling.
    let started = js_sys::Date::now();
    let err = call(sdk.submit_job_with_retry(
        js_config(r#"{ "modelId": "nobody-serves-this", "prompt": "p" }"#),
        js_config(r#"{ "maxRetries": 3, "initialDelay": 100, "maxDelay": 1000 }"#),
    ))
    .await
    .unwrap_err();
    let took = js_sys::Date::now() - started;
    assert_eq!(get_str(&err, "code"), "NO_NODES_AVAILABLE");
    let retries = recorder.of("job:retry");
    assert_eq!(retries.len(), 3);
    let mut waited = 0.0;
    for (i, r) in retries.iter().enumerate() {
        let full = 100.0 * 2f64.powi(i as i32);
        let delay = get_num(r, "delay");
        assert!(
            (full / 2.0 - 1.0..=full).contains(&delay),
            "retry {i}: {delay} ms"
        );
        assert_eq!(get_num(r, "maxRetries"), 3.0);
        waited += delay;
    }
    assert!(took >= waited, "took {took} ms, waited {waited} ms");

    // A signal aborts the waiting.
    let controller = web_sys::AbortController::new().unwrap();
    let request = js_config(r#"{ "modelId": "nobody-serves-this", "prompt": "p" }"#);
    js_sys::Reflect::set(&request, &"signal".into(), &controller.signal()).unwrap();
    let pending = sdk.submit_job_with_retry(
        request,
        js_config(r#"{ "maxRetries": 10, "initialDelay": 5000, "maxDelay": 5000 }"#),
    );
    gloo_timers::future::sleep(std::time::Duration::from_millis(300)).await;
    let aborted_at = js_sys::Date::now();
    controller.abort();
    let err = call(pending).await.unwrap_err();
    assert_eq!(get_str(&err, "code"), "CANCELLED");
    assert!(
        js_sys::Date::now() - aborted_at < 1000.0,
        "the wait was cut short"
    );

    for (options, field) in [
        (r#"{ "maxRetries": 21 }"#, "options.maxRetries"),
        (
            r#"{ "initialDelay": 100, "maxDelay": 50 }"#,
            "options.maxDelay",
        ),
        (r#"{ "backoffFactor": 0 }"#, "options.backoffFactor"),
        (r#"{ "retries": 3 }"#, "options"),
    ] {
        let err = call(sdk.submit_job_with_retry(
            js_config(r#"{ "modelId": "demo-1", "prompt": "p" }"#),
            js_config(options),
        ))
        .await
        .unwrap_err();
        assert_eq!(get_str(&err, "code"), "INVALID_ARGUMENT", "{options}");
        assert!(
            get_str(&err, "message").contains(field),
            "{options}: {}",
            get_str(&err, "message")
        );
    }
}
