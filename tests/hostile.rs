//! Browser tests against a hostile host (`fabstir-hostile`, scripts/test-nodes.sh): each way of
//! speaking the token-stream protocol badly fails only that job, with a typed error, within the
//! stall limit; nothing panics (the suite checks the log); and the next job on a good host
//! streams its exact text.
#![cfg(target_arch = "wasm32")]

mod support;

use fabstir_protocol::demo::demo_text;
use fabstir_sdk::wasm::FabstirSdk;
use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The stall limit the test SDK runs with (ms).
const STALL_MS: f64 = 2000.0;

#[wasm_bindgen_test]
async fn every_misbehaviour_fails_only_its_job_with_a_typed_error() {
    let config = js_config(&format!(
        r#"{{ "p2pConfig": {{ "bootstrapNodes": ["{}"], "streamStallTimeout": {STALL_MS}, "reliability": {{ "failureThreshold": 100 }}, "failover": {{ "enabled": false }} }} }}"#,
        node_addr("ws")
    ));
    let sdk = FabstirSdk::new(config).unwrap();
    call(sdk.start()).await.unwrap();
    let cases = [
        ("malformed", "STREAM_FAILED", "MALFORMED", 1),
        ("oversized", "STREAM_FAILED", "FRAME_TOO_LARGE", 1),
        (
            "order",
            "STREAM_FAILED",
            "token index 3 arrived where 2 was expected",
            2,
        ),
        ("endless", "STREAM_FAILED", "beyond the 50 tokens", 50),
        ("stall", "TIMEOUT", "no frame", 2),
        ("slowloris", "TIMEOUT", "no frame", 0),
        ("total", "STREAM_FAILED", "the end reports 99 tokens", 3),
        ("garbage", "STREAM_FAILED", "", 0),
        // Receipts that lie (issue 14): the text received stays on the job.
        (
            "receipt-tokens",
            "RECEIPT_INVALID",
            "completionTokens is 4",
            3,
        ),
        ("receipt-output", "RECEIPT_INVALID", "outputSha256", 3),
        ("receipt-client", "RECEIPT_INVALID", "client", 3),
        ("receipt-key", "RECEIPT_INVALID", "but is signed by", 3),
    ];
    for (mode, code, says, tokens) in cases {
        let started = js_sys::Date::now();
        let job = call(sdk.submit_job_with_negotiation(js_config(&format!(
            r#"{{ "modelId": "hostile-{mode}", "prompt": "p", "maxTokens": 50, "maxPrice": 1 }}"#
        ))))
        .await
        .unwrap_or_else(|e| panic!("{mode}: negotiation failed: {}", get_str(&e, "message")));
        let err = call_method(&job, "text", &[]).await.unwrap_err();
        let elapsed = js_sys::Date::now() - started;
        let message = get_str(&err, "message");
        assert_eq!(get_str(&err, "code"), code, "{mode}: {message}");
        assert!(message.contains(says), "{mode}: {message}");
        assert_eq!(
            get_num(&job, "tokenCount"),
            f64::from(tokens),
            "{mode}: the good tokens before the fault were kept"
        );
        assert!(
            elapsed < STALL_MS + 3000.0,
            "{mode}: failed after {elapsed} ms"
        );
        web_sys::console::log_1(
            &format!("hostile-{mode}: {code} after {elapsed:.0} ms: {message}").into(),
        );
    }
    good_host_streams_its_exact_text(&sdk, "after the hostile host", 200).await;
}

/// `hostile-overprice`'s record says 1 per token and its host starts a job asked of it at that,
/// but its terms say 5: the job is dropped, and the error says what the host did (it said "no
/// host answered" before). A page's `maxPrice` above 5 changes nothing: the best host is asked to
/// start the job at its record's price.
#[wasm_bindgen_test]
async fn a_host_that_starts_a_job_above_its_records_price_is_dropped() {
    let sdk = FabstirSdk::new(without_failover(&node_addr("ws"))).unwrap();
    call(sdk.start()).await.unwrap();
    let err = call(sdk.submit_job_with_negotiation(js_config(
        r#"{ "modelId": "hostile-overprice", "prompt": "p", "maxTokens": 10, "maxPrice": 10 }"#,
    )))
    .await
    .unwrap_err();
    let message = get_str(&err, "message");
    assert_eq!(get_str(&err, "code"), "NO_NODES_AVAILABLE", "{message}");
    assert!(
        message.contains("started the job at 5 per token, above the 1 it was asked for"),
        "{message}"
    );
    web_sys::console::log_1(&format!("hostile-overprice: {message}").into());
    good_host_streams_its_exact_text(&sdk, "after the overpricing host", 50).await;
}

/// The same lie where the model has an honest host too: `hostile-overprice-shared` is 1 per
/// token in the hostile host's record and 2 in host-b's. The SDK asks the cheaper host first,
/// drops the job it started at 5, says why in a `p2p:debug` event, and starts the job on host-b:
/// its price and its exact text (seed 22).
#[wasm_bindgen_test]
async fn a_job_an_overpricing_host_started_goes_to_the_models_honest_host() {
    let config = js_config(&format!(
        r#"{{ "debug": {{ "subsystems": ["negotiation"] }}, "p2pConfig": {{ "bootstrapNodes": ["{}"], "failover": {{ "enabled": false }} }} }}"#,
        node_addr("ws")
    ));
    let sdk = FabstirSdk::new(config).unwrap();
    let recorder = Recorder::attach(&sdk, &["p2p:debug"]);
    call(sdk.start()).await.unwrap();
    let prompt = "past the overpricing host";
    let job = call(sdk.submit_job_with_negotiation(js_config(&format!(
        r#"{{ "modelId": "hostile-overprice-shared", "prompt": "{prompt}", "maxTokens": 20, "maxPrice": 10 }}"#
    ))))
    .await
    .unwrap_or_else(|e| panic!("negotiation failed: {}", get_str(&e, "message")));
    assert_eq!(get_str(&job, "nodeId"), node_addr("host-b-id"));
    assert_eq!(get_num(&job, "pricePerToken"), 2.0);
    let text = call_method(&job, "text", &[]).await.unwrap();
    assert_eq!(text.as_string().unwrap(), demo_text(22, prompt, 20));
    let said = recorder.debug_messages("not started on the best host");
    assert!(
        said.iter().any(|m| m.contains(
            "started the job at 5 per token, above the 1 it was asked for; asking 1 host(s)"
        )),
        "no p2p:debug event says why the cheaper host was passed over: {said:?}"
    );
    web_sys::console::log_1(&format!("hostile-overprice-shared: {}", said[0]).into());
}

/// The SDK is unharmed: a good host's job (demo-1 at 3 per token, host-b: seed 22) streams its
/// exact text.
async fn good_host_streams_its_exact_text(sdk: &FabstirSdk, prompt: &str, tokens: u64) {
    let job = call(sdk.submit_job_with_negotiation(js_config(&format!(
        r#"{{ "modelId": "demo-1", "prompt": "{prompt}", "maxTokens": {tokens}, "maxPrice": 3 }}"#
    ))))
    .await
    .unwrap();
    let text = call_method(&job, "text", &[]).await.unwrap();
    assert_eq!(text.as_string().unwrap(), demo_text(22, prompt, tokens));
}

#[wasm_bindgen_test]
async fn a_host_that_keeps_failing_is_blacklisted_then_tried_again() {
    let config = js_config(&format!(
        r#"{{ "p2pConfig": {{ "bootstrapNodes": ["{}"], "reliability": {{ "failureThreshold": 2, "blacklistDuration": 1500 }}, "failover": {{ "enabled": false }} }} }}"#,
        node_addr("ws")
    ));
    let sdk = FabstirSdk::new(config).unwrap();
    call(sdk.start()).await.unwrap();
    let recorder = Recorder::attach(&sdk, &["node:blacklisted"]);
    let submit = || {
        call(sdk.submit_job_with_negotiation(js_config(
            r#"{ "modelId": "hostile-order", "prompt": "p", "maxTokens": 20, "maxPrice": 1 }"#,
        )))
    };
    let mut hostile = String::new();
    for _ in 0..2 {
        let job = submit().await.unwrap();
        hostile = get_str(&job, "nodeId");
        call_method(&job, "text", &[]).await.unwrap_err();
    }
    let event = recorder
        .wait_for("node:blacklisted", std::time::Duration::from_secs(2))
        .await;
    assert_eq!(get_str(&event, "peerId"), hostile);
    assert_eq!(get_num(&event, "failedJobs"), 2.0);
    let report = sdk.get_node_reliability(hostile.clone()).unwrap();
    assert_eq!(get_str(&report, "circuit"), "open");
    assert_eq!(
        (
            get_num(&report, "totalJobs"),
            get_num(&report, "successfulJobs"),
            get_num(&report, "failedJobs")
        ),
        (2.0, 0.0, 2.0)
    );
    assert_eq!(get_num(&report, "reliability"), 0.0);
    assert!(get_num(&report, "blacklistedUntil") > js_sys::Date::now());

    // Blacklisted: left out of discovery, not dialed.
    let found = call(sdk.discover_nodes(js_config(
        r#"{ "modelId": "hostile-order", "forceRefresh": true }"#,
    )))
    .await
    .unwrap();
    assert_eq!(js_sys::Array::from(&found).length(), 0);
    let err = submit().await.unwrap_err();
    assert_eq!(get_str(&err, "code"), "NO_NODES_AVAILABLE");

    // After blacklistDuration it half-opens: one more try, and one more failure blacklists it again.
    gloo_timers::future::sleep(std::time::Duration::from_millis(1600)).await;
    let report = sdk.get_node_reliability(hostile.clone()).unwrap();
    assert_eq!(get_str(&report, "circuit"), "half-open");
    let job = submit().await.unwrap();
    call_method(&job, "text", &[]).await.unwrap_err();
    gloo_timers::future::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(
        recorder.of("node:blacklisted").len(),
        2,
        "blacklisted again at once"
    );
    let report = sdk.get_node_reliability(hostile).unwrap();
    assert_eq!(
        (get_str(&report, "circuit"), get_num(&report, "failedJobs")),
        ("open".to_string(), 3.0)
    );

    // A good host's record.
    let job = call(sdk.submit_job_with_negotiation(js_config(
        r#"{ "modelId": "demo-1", "prompt": "reliable", "maxTokens": 30, "maxPrice": 3 }"#,
    )))
    .await
    .unwrap();
    call_method(&job, "text", &[]).await.unwrap();
    let good = sdk.get_node_reliability(get_str(&job, "nodeId")).unwrap();
    assert_eq!(get_num(&good, "successfulJobs"), 1.0);
    assert_eq!(get_num(&good, "successRate"), 1.0);
    assert!(get_num(&good, "averageResponseTime") > 0.0);
    assert_eq!(get_str(&good, "circuit"), "closed");
}
