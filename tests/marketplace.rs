//! Browser tests of the marketplace against the test network of scripts/test-nodes.sh: a relay,
//! host-a (demo-1 at 5, direct) and host-b (demo-1 at 3 and demo-slow at 1, only via the relay).
//! Every expected text is computed with the demo generator the hosts run (seed 11 on host-a,
//! 22 on host-b), so a single wrong, lost or repeated token fails a test.
#![cfg(target_arch = "wasm32")]

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use fabstir_protocol::demo::demo_text;
use fabstir_sdk::wasm::FabstirSdk;
use js_sys::{Array, Function, Reflect};
use support::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Host-b's demo seed (scripts/test-nodes.sh).
const HOST_B_SEED: u64 = 22;
/// load-1's demo seed on host-b and host-e.
const LOAD_SEED: u64 = 44;

async fn started_sdk() -> FabstirSdk {
    let sdk = FabstirSdk::new(config_for(&node_addr("ws"))).unwrap();
    call(sdk.start()).await.unwrap();
    sdk
}

fn request(json: &str) -> JsValue {
    js_config(json)
}

fn now() -> f64 {
    js_sys::Date::now()
}

async fn host_b_stats(sdk: &FabstirSdk) -> JsValue {
    get(
        &call(sdk.get_node_info(node_addr("host-b-id")))
            .await
            .unwrap(),
        "stats",
    )
}

#[wasm_bindgen_test]
async fn discovers_both_hosts_through_the_dht_and_filters() {
    let sdk = started_sdk().await;
    let recorder = Recorder::attach(&sdk, &["node:discovered"]);
    let nodes: Array =
        call(sdk.discover_nodes(request(r#"{ "modelId": "demo-1", "forceRefresh": true }"#)))
            .await
            .unwrap()
            .into();
    let ids: Vec<String> = nodes.iter().map(|n| get_str(&n, "peerId")).collect();
    assert_hosts(&ids, &["host-b", "host-a"], "demo-1 (cheapest first)");
    let b = nodes.get(0);
    let a = nodes.get(1);
    let host_b = node_addr("host-b-id");
    let host_a = peer_of(&node_addr("host-a"));
    assert_eq!(get_str(&b, "peerId"), host_b, "cheapest first");
    assert_eq!(get_str(&a, "peerId"), host_a);
    let b_addrs: Vec<String> = Array::from(&get(&b, "multiaddrs"))
        .iter()
        .filter_map(|v| v.as_string())
        .collect();
    assert!(
        b_addrs.iter().all(|a| a.contains("/p2p-circuit/")),
        "host-b only via the relay: {b_addrs:?}"
    );
    let a_addrs: Vec<String> = Array::from(&get(&a, "multiaddrs"))
        .iter()
        .filter_map(|v| v.as_string())
        .collect();
    assert!(
        a_addrs.iter().all(|a| !a.contains("/p2p-circuit")),
        "host-a directly: {a_addrs:?}"
    );
    for (node, price) in [(&b, 3.0), (&a, 5.0)] {
        let caps = get(node, "capabilities");
        assert_eq!(get_num(&caps, "pricePerToken"), price);
        assert_eq!(get_str(&caps, "backend"), "demo");
        assert_eq!(get_num(&caps, "maxTokens"), 4096.0);
        let latency = get_num(node, "latency");
        assert!(latency.is_finite() && latency >= 0.0, "latency {latency}");
        assert_eq!(get_num(node, "reputation"), 0.5);
        assert!(get_num(node, "lastSeen") > 0.0);
    }
    console_log!(
        "discovery: host-a rtt {:.1} ms (direct), host-b rtt {:.1} ms (relayed)",
        get_num(&a, "latency"),
        get_num(&b, "latency")
    );
    assert_eq!(recorder.of("node:discovered").len(), 2);

    let cheap: Array =
        call(sdk.discover_nodes(request(r#"{ "modelId": "demo-1", "maxPrice": 4 }"#)))
            .await
            .unwrap()
            .into();
    assert_eq!(cheap.length(), 1);
    assert_eq!(get_str(&cheap.get(0), "peerId"), host_b);
    assert_eq!(
        recorder.of("node:discovered").len(),
        2,
        "answered from the cache"
    );
    let without_b = format!(
        r#"{{ "modelId": "demo-1", "excludeNodes": ["{host_b}"], "preferredNodes": ["{host_a}"] }}"#
    );
    let only_a: Array = call(sdk.discover_nodes(request(&without_b)))
        .await
        .unwrap()
        .into();
    assert_eq!(only_a.length(), 1);
    assert_eq!(get_str(&only_a.get(0), "peerId"), host_a);
    let slow: Array = call(sdk.discover_nodes(request(r#"{ "modelId": "demo-slow" }"#)))
        .await
        .unwrap()
        .into();
    assert_eq!(slow.length(), 1);
    let none: Array = call(sdk.discover_nodes(request(r#"{ "modelId": "no-such-model" }"#)))
        .await
        .unwrap()
        .into();
    assert_eq!(none.length(), 0);

    for (bad, field) in [
        (r#"{ "modelId": "demo-1", "maxPrise": 3 }"#, "options"),
        (r#"{ "modelId": "" }"#, "modelId"),
        (
            r#"{ "modelId": "demo-1", "excludeNodes": ["nope"] }"#,
            "excludeNodes[0]",
        ),
    ] {
        let err = call(sdk.discover_nodes(request(bad))).await.unwrap_err();
        assert_eq!(get_str(&err, "code"), "INVALID_ARGUMENT", "{bad}");
        assert!(
            get_str(&err, "message").contains(field),
            "{bad}: {}",
            get_str(&err, "message")
        );
    }
    call(sdk.stop()).await.unwrap();
}

/// The product path: negotiate (host-b is cheaper), then 2,000 tokens through the relay circuit,
/// compared with the generator's text; time to first token and tokens per second are printed.
#[wasm_bindgen_test]
async fn negotiates_the_cheaper_host_and_streams_2000_tokens_through_the_relay() {
    let sdk = started_sdk().await;
    let recorder = Recorder::attach(&sdk, &["job:negotiated", "stream:token", "stream:end"]);
    // Warm the discovery cache, so the figures below are negotiation and streaming only.
    call(sdk.discover_nodes(request(r#"{ "modelId": "demo-1" }"#)))
        .await
        .unwrap();
    let prompt = "Tell me about peer-to-peer networks";
    let submitted = now();
    let job = call(sdk.submit_job_with_negotiation(request(&format!(
        r#"{{ "modelId": "demo-1", "prompt": "{prompt}", "maxTokens": 2000, "maxPrice": 10 }}"#
    ))))
    .await
    .unwrap();
    let negotiated = now();
    assert_eq!(get_str(&job, "nodeId"), node_addr("host-b-id"));
    assert_eq!(get_num(&job, "pricePerToken"), 3.0);
    let event = recorder
        .wait_for("job:negotiated", Duration::from_secs(1))
        .await;
    // Host-b's record says 3, host-a's 5: the job starts on host-b at once, host-a is not asked.
    assert_eq!(get_num(&event, "offers"), 1.0);
    assert_eq!(get_num(&event, "candidates"), 1.0);

    // Tokens through the async-iterator protocol, exactly as `for await (const t of job)`.
    let iterator_fn: Function = Reflect::get(&job, &js_sys::Symbol::async_iterator())
        .unwrap()
        .dyn_into()
        .unwrap();
    let iterator = iterator_fn.call0(&job).unwrap();
    let mut text = String::new();
    let mut first_token_at = None;
    let mut count = 0u64;
    loop {
        let step = call_method(&iterator, "next", &[]).await.unwrap();
        if get(&step, "done").as_bool() == Some(true) {
            break;
        }
        let token = get(&step, "value");
        assert_eq!(get_num(&token, "index"), count as f64, "in order");
        first_token_at.get_or_insert_with(now);
        text.push_str(&get_str(&token, "content"));
        count += 1;
    }
    let finished = now();
    let expected = demo_text(HOST_B_SEED, prompt, 2000);
    assert_eq!(count, 2000);
    assert!(text == expected, "the text differs from the generator's");
    assert_eq!(
        call_method(&job, "text", &[])
            .await
            .unwrap()
            .as_string()
            .unwrap(),
        expected
    );
    let end = recorder
        .wait_for("stream:end", Duration::from_secs(1))
        .await;
    assert_eq!(get_num(&end, "totalTokens"), 2000.0);
    assert_eq!(get_str(&end, "finishReason"), "length");
    let first = first_token_at.unwrap();
    console_log!(
        "through the relay: negotiation {:.0} ms, time to first token {:.0} ms after submit, {:.0} tokens/s ({} tokens in {:.0} ms)",
        negotiated - submitted,
        first - submitted,
        1999.0 / ((finished - first) / 1000.0),
        count,
        finished - first
    );
    call(sdk.stop()).await.unwrap();
}

/// The best host by its record is asked to start the job at once; when it refuses, the next is
/// asked. Here host-e (load-1 at 1, relayed) takes 5 jobs per client peer, which no record says:
/// with this page's 5 jobs running there, a 6th is refused (`peer_limit`) and goes to host-b
/// (load-1 at 2).
#[wasm_bindgen_test]
async fn a_job_the_best_host_refuses_goes_to_the_next() {
    let sdk = started_sdk().await;
    let recorder = Recorder::attach(&sdk, &["job:negotiated"]);
    let load = |prompt: &str, max_tokens: u32| {
        request(&format!(
            r#"{{ "modelId": "load-1", "prompt": "{prompt}", "maxTokens": {max_tokens}, "maxPrice": 2 }}"#
        ))
    };
    // Five long jobs: each holds its slot on host-e while it runs.
    let mut held = Vec::new();
    for i in 0..5 {
        let job = call(sdk.submit_job_with_negotiation(load(&format!("held {i}"), 4000)))
            .await
            .unwrap();
        assert_eq!(get_num(&job, "pricePerToken"), 1.0, "job {i} is on host-e");
        held.push(job);
    }
    let host_e = get_str(&held[0], "nodeId");
    assert_ne!(host_e, node_addr("host-b-id"));
    for job in &held {
        assert_eq!(get_str(job, "nodeId"), host_e);
    }
    let prompt = "the sixth";
    let job = call(sdk.submit_job_with_negotiation(load(prompt, 20)))
        .await
        .unwrap();
    assert_eq!(get_str(&job, "nodeId"), node_addr("host-b-id"));
    assert_eq!(get_num(&job, "pricePerToken"), 2.0);
    let negotiated = recorder.of("job:negotiated");
    let sixth = negotiated.last().unwrap();
    assert_eq!(get_num(sixth, "candidates"), 2.0, "host-e, then host-b");
    assert_eq!(get_num(sixth, "offers"), 1.0, "host-e refused");
    let text = call_method(&job, "text", &[]).await.unwrap();
    assert_eq!(
        text.as_string().unwrap(),
        demo_text(LOAD_SEED, prompt, 20),
        "the text of host-b's generator"
    );
    for job in &held {
        call_method(job, "cancel", &[]).await.unwrap();
    }
    call(sdk.stop()).await.unwrap();
}

#[wasm_bindgen_test]
async fn negotiation_errors_are_typed() {
    let sdk = started_sdk().await;
    let cases = [
        (
            r#"{ "modelId": "demo-1", "prompt": "x", "maxPrice": 2 }"#,
            "PRICE_TOO_HIGH",
            "lowest 3",
        ),
        (
            r#"{ "modelId": "no-such-model", "prompt": "x" }"#,
            "NO_NODES_AVAILABLE",
            "no-such-model",
        ),
        (
            r#"{ "modelId": "demo-1", "prompt": "x", "maxTokens": 5000 }"#,
            "NODE_REJECTED",
            "invalid_request",
        ),
        (
            r#"{ "modelId": "demo-1", "prompt": "x", "temperature": 5 }"#,
            "INVALID_ARGUMENT",
            "temperature",
        ),
        (
            r#"{ "modelId": "demo-1", "prompt": "x", "maxTokenz": 5 }"#,
            "INVALID_ARGUMENT",
            "maxTokenz",
        ),
    ];
    for (json, code, mentions) in cases {
        let err = call(sdk.submit_job_with_negotiation(request(json)))
            .await
            .unwrap_err();
        let message = get_str(&err, "message");
        assert_eq!(get_str(&err, "code"), code, "{json}: {message}");
        assert!(message.contains(mentions), "{json}: {message}");
    }
    let err = call(sdk.create_response_stream(request(r#"{ "jobId": "nope" }"#)))
        .await
        .unwrap_err();
    assert_eq!(get_str(&err, "code"), "JOB_NOT_FOUND");
    // Both hosts still have all their slots: offers that were declined or refused freed them.
    let stats = call(sdk.get_node_info(node_addr("host-b-id")))
        .await
        .unwrap();
    assert_eq!(get_num(&stats, "currentLoad"), 0.0);
    call(sdk.stop()).await.unwrap();
}

/// The stream is cut (the connection to the host is closed) after 300 tokens; with automatic
/// recovery off, the job fails, and resuming from the last token received completes it with
/// the exact text.
#[wasm_bindgen_test]
async fn resume_after_a_cut_stream_loses_and_repeats_nothing() {
    let sdk = FabstirSdk::new(without_failover(&node_addr("ws"))).unwrap();
    call(sdk.start()).await.unwrap();
    let sdk = std::rc::Rc::new(sdk);
    let prompt = "resume me";
    let job = call(sdk.submit_job_with_negotiation(request(&format!(
        r#"{{ "modelId": "demo-slow", "prompt": "{prompt}", "maxTokens": 1000 }}"#
    ))))
    .await
    .unwrap();
    let host = get_str(&job, "nodeId");
    let job_id = get_str(&job, "jobId");
    // Cut at token 300, from inside the token listener.
    let sdk_for_cut = sdk.clone();
    let host_for_cut = host.clone();
    let cut = Closure::<dyn FnMut(JsValue)>::new(move |t: JsValue| {
        if get_num(&t, "index") == 300.0 {
            let _ = sdk_for_cut.disconnect(host_for_cut.clone());
        }
    });
    let on: Function = method(&job, "on");
    on.call2(&job, &"token".into(), cut.as_ref()).unwrap();
    let started = now();
    let err = call_method(&job, "text", &[]).await.unwrap_err();
    assert_eq!(
        get_str(&err, "code"),
        "STREAM_FAILED",
        "{}",
        get_str(&err, "message")
    );
    let received = get_num(&job, "tokenCount");
    assert!(
        (301.0..1000.0).contains(&received),
        "cut after {received} tokens"
    );
    let mut text = String::new();
    for t in Array::from(&tokens_of(&job).await).iter() {
        text.push_str(&get_str(&t, "content"));
    }

    let resumed =
        call(sdk.resume_response_stream(request(&format!(r#"{{ "jobId": "{job_id}" }}"#))))
            .await
            .unwrap();
    let noticed = now() - started;
    assert_eq!(get_num(&resumed, "resumedFrom"), received);
    let rest = call_method(&resumed, "text", &[]).await.unwrap();
    text.push_str(&rest.as_string().unwrap());
    assert!(
        text == demo_text(HOST_B_SEED, prompt, 1000),
        "resumed text differs"
    );
    // The host kept the tokens: the whole stream can be read again from 0.
    let again = call(sdk.create_response_stream(request(&format!(
        r#"{{ "jobId": "{job_id}", "resumeFrom": 0 }}"#
    ))))
    .await
    .unwrap();
    let all = call_method(&again, "text", &[]).await.unwrap();
    assert!(all.as_string().unwrap() == demo_text(HOST_B_SEED, prompt, 1000));
    console_log!("resume: cut after {received} tokens (failure seen {noticed:.0} ms after the job started), resumed from {received}, 1000 tokens exact");
    drop(cut);
    call(sdk.stop()).await.unwrap();
}

/// The same cut with automatic recovery (the default): the SDK reconnects and resumes on the same
/// host by itself; the page sees one exact, uninterrupted text.
#[wasm_bindgen_test]
async fn a_cut_stream_resumes_by_itself_with_the_exact_text() {
    let sdk = std::rc::Rc::new(started_sdk().await);
    let recorder = Recorder::attach(&sdk, &["job:failover"]);
    let prompt = "resume by yourself";
    let job = call(sdk.submit_job_with_negotiation(request(&format!(
        r#"{{ "modelId": "demo-slow", "prompt": "{prompt}", "maxTokens": 600 }}"#
    ))))
    .await
    .unwrap();
    let host = get_str(&job, "nodeId");
    let sdk_for_cut = sdk.clone();
    let host_for_cut = host.clone();
    let cut = Closure::<dyn FnMut(JsValue)>::new(move |t: JsValue| {
        if get_num(&t, "index") == 200.0 {
            let _ = sdk_for_cut.disconnect(host_for_cut.clone());
        }
    });
    method(&job, "on")
        .call2(&job, &"token".into(), cut.as_ref())
        .unwrap();
    let text = call_method(&job, "text", &[]).await.unwrap();
    assert!(
        text.as_string().unwrap() == demo_text(HOST_B_SEED, prompt, 600),
        "the recovered text differs"
    );
    assert_eq!(get_str(&job, "nodeId"), host, "the same host finished it");
    assert!(
        recorder.of("job:failover").is_empty(),
        "no other host was needed"
    );
    drop(cut);
    call(sdk.stop()).await.unwrap();
}

/// Every token a Job delivered so far, via its iterator up to `tokenCount`.
async fn tokens_of(job: &JsValue) -> JsValue {
    let out = Array::new();
    let iterator = method(job, "tokens").call0(job).unwrap();
    let n = get_num(job, "tokenCount") as u32;
    for _ in 0..n {
        let step = call_method(&iterator, "next", &[]).await.unwrap();
        out.push(&get(&step, "value"));
    }
    out.into()
}

/// `cancel()` and an `AbortSignal` stop generation on the host: its own counters stop growing.
#[wasm_bindgen_test]
async fn cancel_and_abort_stop_generation_on_the_host() {
    let sdk = started_sdk().await;
    // Discovery connects us to host-b (through the relay), whose counters we read.
    call(sdk.discover_nodes(request(r#"{ "modelId": "demo-slow" }"#)))
        .await
        .unwrap();
    let before = host_b_stats(&sdk).await;
    let job = call(sdk.submit_job_with_negotiation(request(
        r#"{ "modelId": "demo-slow", "prompt": "cancel me", "maxTokens": 60000 }"#,
    )))
    .await
    .unwrap();
    while get_num(&job, "tokenCount") < 50.0 {
        gloo_timers::future::sleep(Duration::from_millis(20)).await;
    }
    let busy = call(sdk.get_node_info(node_addr("host-b-id")))
        .await
        .unwrap();
    assert_eq!(
        get_num(&busy, "currentLoad"),
        1.0,
        "a running job holds a slot"
    );
    call_method(&job, "cancel", &[]).await.unwrap();
    let partial = call_method(&job, "text", &[])
        .await
        .unwrap()
        .as_string()
        .unwrap();
    assert!(demo_text(HOST_B_SEED, "cancel me", 60000).starts_with(&partial));
    let after = host_b_stats(&sdk).await;
    gloo_timers::future::sleep(Duration::from_millis(1500)).await;
    let later = host_b_stats(&sdk).await;
    let generated = get_num(&after, "tokensGenerated") - get_num(&before, "tokensGenerated");
    assert_eq!(
        get_num(&after, "jobsCancelled"),
        get_num(&before, "jobsCancelled") + 1.0
    );
    assert!(
        generated < 1000.0,
        "the host generated {generated} tokens for a cancelled job"
    );
    assert_eq!(
        get_num(&later, "tokensGenerated"),
        get_num(&after, "tokensGenerated"),
        "the host kept generating"
    );

    // An AbortSignal: aborting a running job cancels it on the host too.
    let controller = web_sys::AbortController::new().unwrap();
    let req = request(r#"{ "modelId": "demo-slow", "prompt": "abort me", "maxTokens": 60000 }"#);
    Reflect::set(&req, &"signal".into(), &controller.signal()).unwrap();
    let job = call(sdk.submit_job_with_negotiation(req)).await.unwrap();
    while get_num(&job, "tokenCount") < 20.0 {
        gloo_timers::future::sleep(Duration::from_millis(20)).await;
    }
    controller.abort();
    call_method(&job, "text", &[]).await.unwrap();
    let aborted = host_b_stats(&sdk).await;
    assert_eq!(
        get_num(&aborted, "jobsCancelled"),
        get_num(&before, "jobsCancelled") + 2.0
    );

    // A signal aborted before the call rejects with CANCELLED and starts nothing.
    let req = request(r#"{ "modelId": "demo-slow", "prompt": "never", "maxTokens": 10 }"#);
    Reflect::set(&req, &"signal".into(), &controller.signal()).unwrap();
    let err = call(sdk.submit_job_with_negotiation(req))
        .await
        .unwrap_err();
    assert_eq!(get_str(&err, "code"), "CANCELLED");
    let last = host_b_stats(&sdk).await;
    assert_eq!(
        get_num(&last, "jobsStarted"),
        get_num(&aborted, "jobsStarted")
    );
    console_log!(
        "cancel: host generated {generated} tokens for the cancelled job, then {} more in 1.5 s",
        get_num(&later, "tokensGenerated") - get_num(&after, "tokensGenerated")
    );
    call(sdk.stop()).await.unwrap();
}

/// A finished job's receipt (issue 14), as `Job.receipt`, in the end event and checked again
/// with `FabstirSDK.verifyReceipt`; returns it.
async fn checked_receipt(sdk: &FabstirSdk, model: &str, host: String, seed: u64) -> JsValue {
    let prompt = format!("a receipt from {host}");
    let job = call(sdk.submit_job_with_negotiation(request(&format!(
        r#"{{ "modelId": "{model}", "prompt": "{prompt}", "maxTokens": 300, "maxPrice": 10 }}"#
    ))))
    .await
    .unwrap();
    let ends = Rc::new(RefCell::new(Vec::new()));
    let seen = ends.clone();
    let on_end = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| seen.borrow_mut().push(e));
    method(&job, "on")
        .call2(&job, &"end".into(), on_end.as_ref())
        .unwrap();
    let text = call_method(&job, "text", &[]).await.unwrap();
    assert_eq!(text.as_string().unwrap(), demo_text(seed, &prompt, 300));
    let receipt = get(&job, "receipt");
    assert!(receipt.is_object(), "{host}: the job has its receipt");
    assert_eq!(get_str(&receipt, "host"), host);
    assert_eq!(get_str(&receipt, "client"), sdk.get_peer_id().unwrap());
    assert_eq!(get_str(&receipt, "jobId"), get_str(&job, "jobId"));
    assert_eq!(get_num(&receipt, "completionTokens"), 300.0);
    assert_eq!(get_num(&receipt, "cost"), get_num(&job, "cost"));
    assert_eq!(get_str(&receipt, "modelId"), model);
    let end = ends.borrow().first().cloned().expect("an end event");
    assert_eq!(
        get_num(&end, "totalTokens"),
        300.0,
        "the end event is a plain object"
    );
    assert_eq!(
        get_str(&get(&end, "receipt"), "envelope"),
        get_str(&receipt, "envelope")
    );
    assert_eq!(Array::from(&get(&job, "receipts")).length(), 1);
    let again = FabstirSdk::verify_receipt(receipt.clone()).unwrap();
    assert_eq!(
        get_str(&again, "outputSha256"),
        get_str(&receipt, "outputSha256")
    );
    FabstirSdk::verify_receipt(get(&receipt, "envelope")).unwrap();
    // The same receipt with one field changed is refused: it is not what the host signed.
    let altered = js_sys::Object::assign(&js_sys::Object::new(), receipt.unchecked_ref());
    Reflect::set(&altered, &"completionTokens".into(), &301.into()).unwrap();
    let err = FabstirSdk::verify_receipt(altered.into()).unwrap_err();
    assert_eq!(get_str(&err, "code"), "RECEIPT_INVALID");
    let envelope = get_str(&receipt, "envelope");
    console_log!(
        "{host}: receipt of {} tokens verified; envelope {} base64 characters",
        get_num(&receipt, "completionTokens"),
        envelope.len()
    );
    // scripts/test.sh verifies this one again from the spec alone (scripts/verify-receipt.mjs).
    console_log!("receipt envelope: {envelope}");
    receipt
}

#[wasm_bindgen_test]
async fn every_job_carries_its_hosts_verified_receipt_direct_and_relayed() {
    let sdk = started_sdk().await;
    checked_receipt(&sdk, "direct-1", peer_of(&node_addr("host-a")), 11).await;
    checked_receipt(&sdk, "relayed-1", node_addr("host-b-id"), HOST_B_SEED).await;
    // In the shape of the `openai` package: the receipts under `fabstir` of the completion.
    let params = js_config(
        r#"{ "model": "relayed-1", "messages": [{ "role": "user", "content": "receipt" }], "max_tokens": 20 }"#,
    );
    let completion = call(sdk.chat().completions().create(params, JsValue::UNDEFINED))
        .await
        .unwrap();
    let receipts = Array::from(&get(&get(&completion, "fabstir"), "receipts"));
    assert_eq!(receipts.length(), 1);
    assert_eq!(get_num(&receipts.get(0), "completionTokens"), 20.0);
    call(sdk.stop()).await.unwrap();
}
