//! Graceful shutdown seen from a page (issue 13): a host that gets SIGTERM while it streams a job
//! turns not-ready first, lets the job finish within its grace (5 s for host-c and host-d,
//! scripts/test-nodes.sh) or, when the grace runs out, ends it with the recoverable
//! SHUTTING_DOWN and the SDK fails over to the replica with the exact text; the host then exits
//! through its shutdown. The signal is sent by the fault injector (scripts/fault-control.py).
#![cfg(target_arch = "wasm32")]

mod support;

use std::cell::RefCell;
use std::rc::Rc;

use fabstir_protocol::demo::demo_text;
use fabstir_sdk::wasm::FabstirSdk;
use support::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The replicas' demo seed (scripts/test-nodes.sh: host-c and host-d serve demo-fo).
const REPLICA_SEED: u64 = 33;

/// A demo-fo job of `tokens` tokens whose host gets SIGTERM (through the fault injector) once
/// `at` tokens arrived. Returns the job, its text (or error), the injector's answer (when the
/// host's /readyz turned 503, when it exited, what it printed) and the failover events; the
/// host is started again before anything is asserted.
async fn sigterm_during_job(prompt: &str, tokens: u32, at: u32) -> TermedJob {
    let sdk = FabstirSdk::new(config_for(&node_addr("ws"))).unwrap();
    let recorder = Recorder::attach(&sdk, &["job:failover"]);
    call(sdk.start()).await.unwrap();
    let job = call(sdk.submit_job_with_negotiation(js_config(&format!(
        r#"{{ "modelId": "demo-fo", "prompt": "{prompt}", "maxTokens": {tokens}, "maxPrice": 2 }}"#
    ))))
    .await
    .unwrap();
    let first = get_str(&job, "nodeId");
    let answer = Rc::new(RefCell::new(JsValue::UNDEFINED));
    let (slot, victim) = (answer.clone(), first.clone());
    let term = Closure::<dyn FnMut(JsValue)>::new(move |t: JsValue| {
        if get_num(&t, "index") == f64::from(at) {
            let (slot, victim) = (slot.clone(), victim.clone());
            wasm_bindgen_futures::spawn_local(async move {
                *slot.borrow_mut() = fault(&format!("term?peer={victim}")).await;
            });
        }
    });
    method(&job, "on")
        .call2(&job, &"token".into(), term.as_ref())
        .unwrap();
    let text = call_method(&job, "text", &[]).await;
    // The injector answers once the host has exited (at most the 5 s grace and a second).
    let give_up = js_sys::Date::now() + 30_000.0;
    while answer.borrow().is_undefined() && js_sys::Date::now() < give_up {
        gloo_timers::future::sleep(std::time::Duration::from_millis(50)).await;
    }
    let answer = answer.borrow().clone();
    let name = get_str(&answer, "name");
    if !name.is_empty() {
        fault(&format!("start?name={name}")).await;
    }
    assert!(!name.is_empty(), "the host was not sent SIGTERM");
    drop(term);
    let failovers = recorder.of("job:failover");
    call(sdk.stop()).await.unwrap();
    TermedJob {
        first,
        job,
        text: text.map(|t| t.as_string().unwrap_or_default()),
        answer,
        failovers,
    }
}

struct TermedJob {
    first: String,
    job: JsValue,
    text: Result<String, JsValue>,
    answer: JsValue,
    failovers: Vec<JsValue>,
}

impl TermedJob {
    /// What the host printed after the signal, one line each.
    fn printed(&self) -> String {
        let lines: js_sys::Array = get(&self.answer, "lines").into();
        lines
            .iter()
            .filter_map(|l| l.as_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The host turned not-ready before it exited, and exited through its shutdown.
    fn assert_clean_exit(&self) -> (f64, f64) {
        let not_ready = get_num(&self.answer, "notReadyMs");
        let exited = get_num(&self.answer, "exitedMs");
        let printed = self.printed();
        assert!(
            not_ready.is_finite() && exited.is_finite() && not_ready < exited,
            "/readyz was not 503 before the exit ({not_ready} ms, exit {exited} ms)"
        );
        assert!(
            printed.contains("draining: no new jobs") && printed.ends_with("shutting down"),
            "the host did not shut down gracefully; it printed:\n{printed}"
        );
        (not_ready, exited)
    }
}

#[wasm_bindgen_test]
async fn sigterm_lets_a_streaming_job_finish_on_its_host() {
    let prompt = "finish before you go";
    let t = sigterm_during_job(prompt, 300, 30).await;
    let text = t
        .text
        .as_ref()
        .unwrap_or_else(|e| panic!("the job failed: {}", get_str(e, "message")));
    assert_eq!(*text, demo_text(REPLICA_SEED, prompt, 300));
    assert!(
        t.failovers.is_empty(),
        "no failover: it finished in the grace"
    );
    assert_eq!(get_str(&t.job, "nodeId"), t.first);
    let (not_ready, exited) = t.assert_clean_exit();
    assert!(
        !t.printed().contains("grace over"),
        "the job was ended, not let finish:\n{}",
        t.printed()
    );
    console_log!(
        "SIGTERM at token 30 of 300: /readyz 503 after {not_ready} ms; the job finished on its host (300 tokens exact); the host exited {exited} ms after the signal"
    );
}

#[wasm_bindgen_test]
async fn sigterm_with_a_job_longer_than_the_grace_fails_it_over() {
    let prompt = "outlast the grace";
    let t = sigterm_during_job(prompt, 3000, 150).await;
    let text = t
        .text
        .as_ref()
        .unwrap_or_else(|e| panic!("the job failed: {}", get_str(e, "message")));
    assert!(
        *text == demo_text(REPLICA_SEED, prompt, 3000),
        "the text after failover differs from the one uninterrupted text"
    );
    assert_eq!(t.failovers.len(), 1, "one failover");
    let event = &t.failovers[0];
    assert_eq!(get_str(event, "fromNode"), t.first);
    assert!(
        get_str(event, "reason").contains("shut down during the job"),
        "failed over for another reason: {}",
        get_str(event, "reason")
    );
    // One verified receipt per host (issue 14): the first host's came with its SHUTTING_DOWN.
    let receipts = js_sys::Array::from(&get(&t.job, "receipts"));
    assert_eq!(receipts.length(), 2, "a receipt from each host");
    let (from, to) = (receipts.get(0), receipts.get(1));
    assert_eq!(get_str(&from, "host"), t.first);
    assert_eq!(get_str(&to, "host"), get_str(&t.job, "nodeId"));
    assert_eq!(
        get_num(&from, "completionTokens"),
        get_num(event, "resumedAt"),
        "the first host's receipt covers the tokens it sent"
    );
    assert_eq!(
        get_num(&from, "completionTokens") + get_num(&to, "completionTokens"),
        3000.0,
        "the receipts add up to the text"
    );
    assert_eq!(
        get_num(&from, "cost") + get_num(&to, "cost"),
        get_num(&t.job, "cost")
    );
    let (not_ready, exited) = t.assert_clean_exit();
    assert!(
        t.printed().contains("grace over: ended 1 running job(s)"),
        "{}",
        t.printed()
    );
    // The running job was given the whole grace (5 s) before it was ended.
    assert!(exited >= 5000.0, "exited {exited} ms after the signal");
    console_log!(
        "SIGTERM at token 150 of 3000: /readyz 503 after {not_ready} ms; grace (5 s) over, the job failed over at token {} and finished exact (3000 tokens); the host exited {exited} ms after the signal",
        get_num(event, "resumedAt")
    );
}
