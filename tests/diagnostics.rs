//! Browser tests of the diagnostics: health report, connectivity checks, the perf protocol and
//! `p2p:debug` events, against the test network of scripts/test-nodes.sh.
#![cfg(target_arch = "wasm32")]

mod support;

use std::collections::HashSet;
use std::time::Duration;

use fabstir_sdk::wasm::FabstirSdk;
use js_sys::Array;
use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn the_health_report_follows_the_real_state() {
    let sdk = FabstirSdk::new(config_for(&node_addr("ws"))).unwrap();
    let report = call(sdk.get_system_health_report()).await.unwrap();
    assert_eq!(get_str(&report, "status"), "unhealthy");
    assert_eq!(
        Array::from(&get(&report, "issues"))
            .get(0)
            .as_string()
            .unwrap(),
        "the SDK is not started"
    );

    let recorder = Recorder::attach(&sdk, &["relay:reservation"]);
    call(sdk.start()).await.unwrap();
    recorder
        .wait_for("relay:reservation", Duration::from_secs(10))
        .await;
    let report = call(sdk.get_system_health_report()).await.unwrap();
    let p2p = get(&report, "p2p");
    assert_eq!(
        get_str(&report, "status"),
        "healthy",
        "issues: {:?}",
        Array::from(&get(&report, "issues")).to_vec()
    );
    assert_eq!(get_num(&p2p, "bootstrapConnected"), 1.0);
    assert_eq!(get_num(&p2p, "relayReservations"), 1.0);
    assert!(get_num(&get(&report, "discovery"), "dhtPeers") >= 1.0);
    assert!(get(&get(&report, "performance"), "averageTimeToFirstToken").is_null());

    let job = call(sdk.submit_job_with_negotiation(js_config(
        r#"{ "modelId": "demo-1", "prompt": "health", "maxTokens": 50 }"#,
    )))
    .await
    .unwrap();
    call_method(&job, "text", &[]).await.unwrap();
    let report = call(sdk.get_system_health_report()).await.unwrap();
    let jobs = get(&report, "jobs");
    assert_eq!(get_num(&jobs, "streams"), 1.0);
    assert_eq!(get_num(&jobs, "succeeded"), 1.0);
    assert_eq!(get_num(&jobs, "tokensReceived"), 50.0);
    assert!(
        get_num(&jobs, "bytesReceived") > 50.0 * 40.0,
        "each token frame is 40+ bytes"
    );
    let perf = get(&report, "performance");
    let ttft = get_num(&perf, "averageTimeToFirstToken");
    assert!(ttft > 0.0 && ttft < 10_000.0, "{ttft}");
    assert!(get_num(&perf, "averagePeerRtt") >= 0.0);
    console_log!(
        "health: time to first token {ttft:.0} ms, {:.0} tokens/s",
        get_num(&perf, "averageTokensPerSecond")
    );
    call(sdk.stop()).await.unwrap();
}

#[wasm_bindgen_test]
async fn connectivity_checks_every_bootstrap_node_and_the_dht() {
    let good = node_addr("ws");
    let bad = node_addr("unreachable");
    let sdk = FabstirSdk::new(js_config(&format!(
        r#"{{ "p2pConfig": {{ "bootstrapNodes": ["{good}", "{bad}"], "maxRetries": 0, "dialTimeout": 5000 }} }}"#
    )))
    .unwrap();
    let recorder = Recorder::attach(&sdk, &["relay:reservation"]);
    call(sdk.start()).await.unwrap();
    recorder
        .wait_for("relay:reservation", Duration::from_secs(10))
        .await;
    let report = call(sdk.test_p2p_connectivity()).await.unwrap();
    let bootstrap = Array::from(&get(&report, "bootstrap"));
    assert_eq!(bootstrap.length(), 2);
    let (ok, down) = (bootstrap.get(0), bootstrap.get(1));
    assert_eq!(get_str(&ok, "address"), good);
    assert_eq!(get(&ok, "reachable").as_bool(), Some(true));
    assert!(get_num(&ok, "latency") >= 0.0);
    assert_eq!(get(&down, "reachable").as_bool(), Some(false));
    assert!(!get_str(&down, "error").is_empty());
    let discovery = get(&report, "discovery");
    assert_eq!(get(&discovery, "working").as_bool(), Some(true));
    assert!(get_num(&discovery, "peersAnswered") >= 1.0);
    let reach = get(&report, "reachability");
    assert_eq!(get_str(&reach, "mode"), "relayed");
    assert!(Array::from(&get(&reach, "addresses"))
        .get(0)
        .as_string()
        .unwrap()
        .contains("/p2p-circuit"));
    call(sdk.stop()).await.unwrap();
}

#[wasm_bindgen_test]
async fn network_performance_over_the_perf_protocol() {
    let sdk = FabstirSdk::new(config_for(&node_addr("ws"))).unwrap();
    call(sdk.start()).await.unwrap();
    let host = dial(&sdk, node_addr("host-a")).await;
    let options = js_config(r#"{ "uploadBytes": 2097152, "downloadBytes": 4194304 }"#);
    let report = call(sdk.test_network_performance(host.clone(), options))
        .await
        .unwrap();
    assert_eq!(get_num(&report, "uploadBytes"), 2_097_152.0);
    assert_eq!(get_num(&report, "downloadBytes"), 4_194_304.0);
    assert_eq!(Array::from(&get(&report, "pings")).length(), 3);
    for key in ["latency", "uploadMbps", "downloadMbps", "duration"] {
        let v = get_num(&report, key);
        assert!(v.is_finite() && v > 0.0, "{key} = {v}");
    }
    console_log!(
        "perf to host-a over WebSocket: rtt {:.1} ms, up {:.0} Mbit/s, down {:.0} Mbit/s",
        get_num(&report, "latency"),
        get_num(&report, "uploadMbps"),
        get_num(&report, "downloadMbps")
    );
    let too_big = js_config(r#"{ "downloadBytes": 16777217 }"#);
    let err = call(sdk.test_network_performance(host, too_big))
        .await
        .unwrap_err();
    assert_eq!(get_str(&err, "code"), "INVALID_ARGUMENT");
    assert!(get_str(&err, "message").contains("downloadBytes"));
    call(sdk.stop()).await.unwrap();
}

#[wasm_bindgen_test]
async fn debug_events_come_only_from_the_chosen_subsystems() {
    let config = js_config(&format!(
        r#"{{ "debug": {{ "subsystems": ["discovery", "negotiation", "stream"] }}, "p2pConfig": {{ "bootstrapNodes": ["{}"] }} }}"#,
        node_addr("ws")
    ));
    let sdk = FabstirSdk::new(config).unwrap();
    let recorder = Recorder::attach(&sdk, &["p2p:debug"]);
    call(sdk.start()).await.unwrap();
    let job = call(sdk.submit_job_with_negotiation(js_config(
        r#"{ "modelId": "demo-1", "prompt": "debug", "maxTokens": 5 }"#,
    )))
    .await
    .unwrap();
    call_method(&job, "text", &[]).await.unwrap();
    gloo_timers::future::sleep(Duration::from_millis(100)).await;
    let subsystems: HashSet<String> = recorder
        .of("p2p:debug")
        .iter()
        .map(|e| get_str(e, "subsystem"))
        .collect();
    let expected: HashSet<String> = ["discovery", "negotiation", "stream"]
        .map(String::from)
        .into();
    assert_eq!(subsystems, expected);
    assert!(!recorder.debug_messages("accepted by").is_empty());
    call(sdk.stop()).await.unwrap();

    let quiet = FabstirSdk::new(config_for(&node_addr("ws"))).unwrap();
    let recorder = Recorder::attach(&quiet, &["p2p:debug"]);
    call(quiet.start()).await.unwrap();
    let job = call(quiet.submit_job_with_negotiation(js_config(
        r#"{ "modelId": "demo-1", "prompt": "quiet", "maxTokens": 5 }"#,
    )))
    .await
    .unwrap();
    call_method(&job, "text", &[]).await.unwrap();
    assert!(
        recorder.of("p2p:debug").is_empty(),
        "debug is off by default"
    );
    call(quiet.stop()).await.unwrap();
}
