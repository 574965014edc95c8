//! Fault tests in the browser against real processes: a host killed mid-stream (the job fails
//! over to a replica and the page gets the exact text). The processes are killed and restarted
//! by the fault injector of scripts/test-nodes.sh (scripts/fault-control.py on 127.0.0.1:29190).
#![cfg(target_arch = "wasm32")]

mod support;

use std::cell::Cell;
use std::rc::Rc;

use fabstir_protocol::demo::demo_text;
use fabstir_sdk::wasm::FabstirSdk;
use support::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The replicas' demo seed (scripts/test-nodes.sh: host-c and host-d serve demo-fo).
const REPLICA_SEED: u64 = 33;

#[wasm_bindgen_test]
async fn a_host_killed_mid_stream_fails_over_with_the_exact_text() {
    let config = js_config(&format!(
        r#"{{ "debug": {{ "subsystems": ["stream", "negotiation", "connection", "reliability"] }}, "p2pConfig": {{ "bootstrapNodes": ["{}"] }} }}"#,
        node_addr("ws")
    ));
    let sdk = FabstirSdk::new(config).unwrap();
    let t0 = js_sys::Date::now();
    let log = log_debug_events(&sdk, t0);
    call(sdk.start()).await.unwrap();
    let failed_over_at = Rc::new(Cell::new(0.0));
    let at = failed_over_at.clone();
    let on_failover =
        Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| at.set(js_sys::Date::now()));
    sdk.on("job:failover".into(), on_failover.as_ref().clone().into())
        .unwrap();
    let recorder = Recorder::attach(&sdk, &["job:failover"]);
    let prompt = "survive a killed host";
    let job = call(sdk.submit_job_with_negotiation(js_config(&format!(
        r#"{{ "modelId": "demo-fo", "prompt": "{prompt}", "maxTokens": 1500, "maxPrice": 2 }}"#
    ))))
    .await
    .unwrap();
    let first = get_str(&job, "nodeId");
    let killed_at = Rc::new(Cell::new(0.0));
    let killed_name = Rc::new(std::cell::RefCell::new(String::new()));
    let (k_at, k_name, victim) = (killed_at.clone(), killed_name.clone(), first.clone());
    let kill = Closure::<dyn FnMut(JsValue)>::new(move |t: JsValue| {
        if get_num(&t, "index") == 150.0 {
            let (k_at, k_name, victim) = (k_at.clone(), k_name.clone(), victim.clone());
            wasm_bindgen_futures::spawn_local(async move {
                k_at.set(js_sys::Date::now());
                console_log!("killing {victim}");
                let answer = fault(&format!("kill?peer={victim}")).await;
                *k_name.borrow_mut() = get_str(&answer, "name");
            });
        }
    });
    method(&job, "on")
        .call2(&job, &"token".into(), kill.as_ref())
        .unwrap();
    let text = call_method(&job, "text", &[]).await;
    // Bring the killed host back for whatever runs next, before any assertion can fail.
    let name = killed_name.borrow().clone();
    if !name.is_empty() {
        fault(&format!("start?name={name}")).await;
    }
    let text = text.unwrap_or_else(|e| panic!("the job failed: {}", get_str(&e, "message")));
    assert!(
        text.as_string().unwrap() == demo_text(REPLICA_SEED, prompt, 1500),
        "the text after failover differs from the one uninterrupted text"
    );
    let events = recorder.of("job:failover");
    assert_eq!(events.len(), 1, "one failover");
    let event = &events[0];
    assert_eq!(get_str(event, "fromNode"), first);
    let second = get_str(event, "toNode");
    assert_ne!(second, first);
    assert_eq!(
        get_str(&job, "nodeId"),
        second,
        "the job now reports its new host"
    );
    let resumed_at = get_num(event, "resumedAt");
    assert!(
        (150.0..1500.0).contains(&resumed_at),
        "resumed at {resumed_at}"
    );
    assert_eq!(get_num(&job, "tokenCount"), 1500.0);
    let took = failed_over_at.get() - killed_at.get();
    assert!(took > 0.0 && took < 10_000.0, "failover took {took} ms");
    console_log!(
        "failover: {name} killed after token 150; the job moved to the replica {took:.0} ms later at token {resumed_at}; 1500 tokens exact"
    );
    drop((kill, on_failover, log));
    call(sdk.stop()).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_restarted_relay_is_rejoined_and_jobs_work_again() {
    /// The bound this test holds the SDK to: from the relay's restart to a new reservation.
    const BOUND_MS: f64 = 10_000.0;
    let config = js_config(&format!(
        r#"{{ "debug": {{ "subsystems": ["connection", "relay"] }}, "p2pConfig": {{ "bootstrapNodes": ["{}"], "retryDelay": 200 }} }}"#,
        node_addr("relay-2")
    ));
    let sdk = FabstirSdk::new(config).unwrap();
    let t0 = js_sys::Date::now();
    let log = log_debug_events(&sdk, t0);
    let recorder = Recorder::attach(
        &sdk,
        &["p2p:reconnecting", "p2p:reconnected", "relay:reservation"],
    );
    call(sdk.start()).await.unwrap();
    recorder
        .wait_for("relay:reservation", std::time::Duration::from_secs(10))
        .await;
    let reservations = recorder.of("relay:reservation").len();

    console_log!("{:>6.0} ms killing relay-2", js_sys::Date::now() - t0);
    fault("kill?name=relay-2").await;
    gloo_timers::future::sleep(std::time::Duration::from_millis(1000)).await;
    let restarted = fault("start?name=relay-2").await;
    console_log!("{:>6.0} ms relay-2 restarted", js_sys::Date::now() - t0);
    let restarted_at = js_sys::Date::now();
    for e in recorder.of("p2p:reconnecting") {
        console_log!(
            "reconnecting: attempt {} after {} ms",
            get_num(&e, "attempt"),
            get_num(&e, "delay")
        );
    }
    recorder
        .wait_for(
            "p2p:reconnected",
            std::time::Duration::from_millis(BOUND_MS as u64),
        )
        .await;
    let reconnected_after = js_sys::Date::now() - restarted_at;
    let deadline = restarted_at + BOUND_MS;
    while recorder.of("relay:reservation").len() == reservations {
        assert!(
            js_sys::Date::now() < deadline,
            "no new reservation within {BOUND_MS} ms of the restart"
        );
        gloo_timers::future::sleep(std::time::Duration::from_millis(100)).await;
    }
    let reserved_after = js_sys::Date::now() - restarted_at;
    let attempts = recorder.of("p2p:reconnecting").len();
    assert!(attempts >= 1);

    // A new job: discovery goes through the restarted relay's DHT, which the hosts announce
    // themselves to again when they rejoin it.
    let mut job = None;
    while job.is_none() {
        let submitted = call(sdk.submit_job_with_negotiation(js_config(
            r#"{ "modelId": "demo-fo", "prompt": "after the restart", "maxTokens": 50, "maxPrice": 2 }"#,
        )))
        .await;
        match submitted {
            Ok(j) => job = Some(j),
            Err(e) => {
                assert!(
                    js_sys::Date::now() < restarted_at + 3.0 * BOUND_MS,
                    "no job after the restart: {}",
                    get_str(&e, "message")
                );
                gloo_timers::future::sleep(std::time::Duration::from_millis(500)).await;
            }
        }
    }
    let job = job.unwrap();
    let text = call_method(&job, "text", &[]).await.unwrap();
    assert_eq!(
        text.as_string().unwrap(),
        demo_text(REPLICA_SEED, "after the restart", 50)
    );
    let job_after = js_sys::Date::now() - restarted_at;
    console_log!(
        "relay restart: the relay was back in {} ms; the SDK reconnected {reconnected_after:.0} ms after its restart ({attempts} attempt(s)), reserved again after {reserved_after:.0} ms, and finished a new job {job_after:.0} ms after it",
        get_num(&restarted, "ms")
    );
    drop(log);
    call(sdk.stop()).await.unwrap();
}

#[wasm_bindgen_test]
async fn submit_job_with_retry_waits_out_hosts_that_are_down() {
    for name in ["host-c", "host-d"] {
        fault(&format!("kill?name={name}")).await;
    }
    let sdk = FabstirSdk::new(config_for(&node_addr("ws"))).unwrap();
    let recorder = Recorder::attach(&sdk, &["job:retry"]);
    call(sdk.start()).await.unwrap();
    // One replica comes back once the SDK has failed to find a host and waits to retry (how long
    // that first attempt takes depends on the machine's load, so a fixed delay could let the
    // replica be back before the SDK ever needed a retry).
    let started = js_sys::Date::now();
    let back_at = Rc::new(Cell::new(0.0));
    let back = back_at.clone();
    let events = recorder.events.clone();
    wasm_bindgen_futures::spawn_local(async move {
        // (Bounded, so that the replica comes back whatever happens.)
        let give_up = js_sys::Date::now() + 30_000.0;
        while js_sys::Date::now() < give_up
            && !events
                .borrow()
                .iter()
                .any(|e| get_str(e, "type") == "job:retry")
        {
            gloo_timers::future::sleep(std::time::Duration::from_millis(20)).await;
        }
        fault("start?name=host-c").await;
        back.set(js_sys::Date::now());
    });
    let prompt = "worth the wait";
    let options = js_config(r#"{ "maxRetries": 10, "initialDelay": 300, "maxDelay": 1500 }"#);
    let job = call(sdk.submit_job_with_retry(
        js_config(&format!(
            r#"{{ "modelId": "demo-fo", "prompt": "{prompt}", "maxTokens": 100, "maxPrice": 2 }}"#
        )),
        options,
    ))
    .await;
    let got_job_at = js_sys::Date::now();
    while back_at.get() == 0.0 {
        gloo_timers::future::sleep(std::time::Duration::from_millis(50)).await;
    }
    fault("start?name=host-d").await;
    let job = job.unwrap_or_else(|e| panic!("no job: {}", get_str(&e, "message")));
    let text = call_method(&job, "text", &[]).await.unwrap();
    assert_eq!(
        text.as_string().unwrap(),
        demo_text(REPLICA_SEED, prompt, 100)
    );
    let retries = recorder.of("job:retry");
    assert!(!retries.is_empty(), "it had to retry");
    for (i, r) in retries.iter().enumerate() {
        assert_eq!(get_num(r, "attempt"), (i + 1) as f64);
        assert_eq!(get_str(r, "code"), "NO_NODES_AVAILABLE");
        // A host listed but down is named, with why it could not be reached.
        let error = get_str(r, "error");
        assert!(
            !error.ends_with("no host that advertises it could be reached"),
            "retry {} does not say why: {error}",
            i + 1
        );
        let full = (300.0 * 2f64.powi(i as i32)).min(1500.0);
        let delay = get_num(r, "delay");
        assert!(
            delay >= full * 0.5 - 1.0 && delay <= full,
            "retry {} waited {delay} ms, not within [{}, {full}]",
            i + 1,
            full * 0.5
        );
    }
    console_log!(
        "retry: both replicas down ({}); {} retries; the job was negotiated {:.0} ms after asking ({:.0} ms after a replica came back), 100 tokens exact",
        get_str(&retries[0], "error"),
        retries.len(),
        got_job_at - started,
        got_job_at - back_at.get()
    );
    call(sdk.stop()).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_host_killed_and_restarted_resumes_the_job_from_its_database() {
    // No failover and no automatic resume: the page resumes by hand once the host is back.
    let sdk = FabstirSdk::new(without_failover(&node_addr("ws"))).unwrap();
    call(sdk.start()).await.unwrap();
    let prompt = "outlive a restart";
    let job = call(sdk.submit_job_with_negotiation(js_config(&format!(
        r#"{{ "modelId": "demo-fo", "prompt": "{prompt}", "maxTokens": 1500, "maxPrice": 2 }}"#
    ))))
    .await
    .unwrap();
    let host = get_str(&job, "nodeId");
    let received = Rc::new(std::cell::RefCell::new(String::new()));
    let killed = Rc::new(std::cell::RefCell::new(String::new()));
    let (text, name, victim) = (received.clone(), killed.clone(), host.clone());
    let on_token = Closure::<dyn FnMut(JsValue)>::new(move |t: JsValue| {
        text.borrow_mut().push_str(&get_str(&t, "content"));
        if get_num(&t, "index") == 300.0 {
            let (name, victim) = (name.clone(), victim.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let answer = fault(&format!("kill?peer={victim}")).await;
                *name.borrow_mut() = get_str(&answer, "name");
            });
        }
    });
    method(&job, "on")
        .call2(&job, &"token".into(), on_token.as_ref())
        .unwrap();
    let cut = call_method(&job, "text", &[]).await;
    let give_up = js_sys::Date::now() + 10_000.0;
    while killed.borrow().is_empty() && js_sys::Date::now() < give_up {
        gloo_timers::future::sleep(std::time::Duration::from_millis(20)).await;
    }
    let name = killed.borrow().clone();
    assert!(!name.is_empty(), "the host was not killed");
    let restarted = fault(&format!("start?name={name}")).await;
    let err = cut.expect_err("the job was cut by the kill");
    let got = get_num(&job, "tokenCount");
    assert!(
        (300.0..1500.0).contains(&got),
        "{got} tokens before the cut"
    );
    // The same page (same peer id) resumes the job on the same, restarted host.
    let resumed = call(sdk.resume_response_stream(js_config(&format!(
        r#"{{ "jobId": "{}" }}"#,
        get_str(&job, "jobId")
    ))))
    .await
    .unwrap_or_else(|e| panic!("no resume: {}", get_str(&e, "message")));
    let rest = call_method(&resumed, "text", &[])
        .await
        .unwrap_or_else(|e| panic!("the resumed job failed: {}", get_str(&e, "message")));
    let whole = received.borrow().clone() + &rest.as_string().unwrap();
    let expected = demo_text(REPLICA_SEED, prompt, 1500);
    assert!(whole == expected, "the text across the restart differs");
    assert_eq!(get_str(&resumed, "nodeId"), host);
    // One receipt for the whole job, from the restarted host.
    let receipt = get(&resumed, "receipt");
    assert_eq!(get_str(&receipt, "host"), host);
    assert_eq!(get_num(&receipt, "completionTokens"), 1500.0);
    assert_eq!(
        get_str(&receipt, "outputSha256"),
        fabstir_protocol::receipt::sha256_hex(expected.as_bytes())
    );
    console_log!(
        "{name} SIGKILLed near token 300 ({}: {got} tokens received), back in {} ms; resumed from {got} on the same host: 1500 tokens exact, one receipt",
        get_str(&err, "code"),
        get_num(&restarted, "ms")
    );
    drop(on_token);
    call(sdk.stop()).await.unwrap();
}
