//! Chat completions from a real model server through the network: llama.cpp's `llama-server`
//! with the suite's tiny model (scripts/llama.sh), fronted by host-g (direct) and host-h (only
//! through the relay), and llama-cpp-python's server over the same llama.cpp and model, fronted
//! by host-g; asked from the page with `sdk.chat.completions.create` in the shape of the
//! `openai` package. Every expected text comes from the same server over plain HTTP.
#![cfg(target_arch = "wasm32")]

mod support;

use fabstir_sdk::wasm::FabstirSdk;
use js_sys::Function;
use support::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// llama-1, the one-slot server both tiny-llama hosts front.
const LLAMA: &str = "http://127.0.0.1:29301";

/// llama-cpp-python's own server (`python -m llama_cpp.server`, one generation at a time), which
/// host-g serves as tiny-llama-py.
const LLAMA_PY: &str = "http://127.0.0.1:29306";

/// The conversation the tests hold: system, user, assistant, user.
const MESSAGES: &str = r#"[
  { "role": "system", "content": "You are a terse assistant." },
  { "role": "user", "content": "Name a colour." },
  { "role": "assistant", "content": "Blue." },
  { "role": "user", "content": "And another one, please." }
]"#;

/// POSTs `body` (JSON text) to the model server at `server` and returns its JSON answer.
async fn direct_to(server: &str, path: &str, body: &str) -> JsValue {
    let post = Function::new_with_args(
        "url, body",
        "return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
           .then(r => r.json())",
    );
    let promise: js_sys::Promise = post
        .call2(
            &JsValue::NULL,
            &format!("{server}{path}").into(),
            &body.into(),
        )
        .unwrap()
        .into();
    JsFuture::from(promise).await.unwrap()
}

/// The answer of the server at `server` to the conversation over plain HTTP (greedy, seed 7).
async fn answer_of(server: &str, max_tokens: u32, extra: &str) -> JsValue {
    direct_to(
        server,
        "/v1/chat/completions",
        &format!(
            r#"{{ "messages": {MESSAGES}, "max_tokens": {max_tokens}, "temperature": 0, "seed": 7 {extra} }}"#
        ),
    )
    .await
}

/// llama-1's own answer to the conversation over plain HTTP: (text, completion tokens).
async fn reference(max_tokens: u32, extra: &str) -> (String, f64) {
    let answer = answer_of(LLAMA, max_tokens, extra).await;
    let text = get_str(&get(&choice(&answer), "message"), "content");
    (text, get_num(&get(&answer, "usage"), "completion_tokens"))
}

/// Asks the conversation through the SDK (`params` adds to model, messages, temperature, seed).
async fn create(sdk: &FabstirSdk, params: &str, options: JsValue) -> Result<JsValue, JsValue> {
    let params = js_config(&format!(
        r#"{{ "model": "tiny-llama", "messages": {MESSAGES}, "temperature": 0, "seed": 7, {params} }}"#
    ));
    call(sdk.chat().completions().create(params, options)).await
}

/// Every chunk of a `ChatStream`, read with `for await` as a page does.
async fn chunks(stream: &JsValue) -> Result<Vec<JsValue>, JsValue> {
    let read = Function::new_with_args(
        "s",
        "return (async () => { const out = []; for await (const c of s) out.push(c); return out; })()",
    );
    let promise: js_sys::Promise = read.call1(&JsValue::NULL, stream).unwrap().into();
    let all = JsFuture::from(promise).await?;
    Ok(js_sys::Array::from(&all).iter().collect())
}

fn choice(chunk: &JsValue) -> JsValue {
    js_sys::Array::from(&get(chunk, "choices")).get(0)
}

async fn started() -> FabstirSdk {
    let sdk = FabstirSdk::new(config_for(&node_addr("ws"))).unwrap();
    call(sdk.start()).await.unwrap();
    sdk
}

#[wasm_bindgen_test]
async fn a_conversation_through_the_relay_is_the_servers_text_byte_for_byte() {
    let (expected, server_tokens) = reference(40, "").await;
    assert!(!expected.is_empty());
    let sdk = started().await;
    let began = js_sys::Date::now();
    let stream = create(
        &sdk,
        r#""max_tokens": 40, "stream": true, "stream_options": { "include_usage": true }"#,
        JsValue::UNDEFINED,
    )
    .await
    .unwrap_or_else(|e| panic!("create: {}", get_str(&e, "message")));
    let all = chunks(&stream).await.unwrap();
    let took = js_sys::Date::now() - began;
    // First the role, then one chunk per token, the finish, and the usage.
    let first = choice(&all[0]);
    assert_eq!(get_str(&get(&first, "delta"), "role"), "assistant");
    assert_eq!(get_str(&all[0], "object"), "chat.completion.chunk");
    let served = get(&all[0], "fabstir");
    assert_eq!(
        get_str(&served, "nodeId"),
        node_addr("host-h-id"),
        "the cheapest host, reachable only through the relay"
    );
    let n = all.len();
    let tokens: Vec<String> = all[1..n - 2]
        .iter()
        .map(|c| get_str(&get(&choice(c), "delta"), "content"))
        .collect();
    let text: String = tokens.concat();
    assert_eq!(text, expected, "the page's text is the server's");
    assert_eq!(get_str(&choice(&all[n - 2]), "finish_reason"), "length");
    let usage = get(&all[n - 1], "usage");
    assert_eq!(
        js_sys::Array::from(&get(&all[n - 1], "choices")).length(),
        0
    );
    assert_eq!(get_num(&usage, "completion_tokens"), server_tokens);
    assert_eq!(tokens.len() as f64, server_tokens, "one chunk per token");
    let prompt = get_num(&usage, "prompt_tokens");
    assert!(prompt > 20.0, "{prompt} prompt tokens");
    // Price 1 per token and 1 per prompt token (scripts/test-nodes.sh).
    let last = get(&all[n - 2], "fabstir");
    assert_eq!(get_num(&last, "cost"), server_tokens + prompt);
    // The llama.cpp host's signed receipt (issue 14), verified by the SDK: the text's hash, its
    // tokens, the prompt tokens the server counted, the cost.
    let receipt = get(&last, "receipt");
    assert_eq!(get_str(&receipt, "host"), node_addr("host-h-id"));
    assert_eq!(get_num(&receipt, "completionTokens"), server_tokens);
    assert_eq!(get_num(&receipt, "promptTokens"), prompt);
    assert_eq!(get_num(&receipt, "cost"), server_tokens + prompt);
    assert_eq!(
        get_str(&receipt, "outputSha256"),
        fabstir_protocol::receipt::sha256_hex(text.as_bytes())
    );
    FabstirSdk::verify_receipt(receipt).unwrap();
    console_log!(
        "llama.cpp through the relay: {} tokens in {took:.0} ms from create() to the last chunk; {prompt} prompt tokens",
        tokens.len()
    );
    call(sdk.stop()).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_stop_sequence_ends_the_answer_and_a_completion_has_the_openai_shape() {
    let (reference_text, _) = reference(40, "").await;
    // The fourth word of the reference, as a stop sequence: the answer ends right before it.
    let word = reference_text.split_inclusive(' ').nth(3).unwrap_or(" x");
    let stop = format!(" {}", word.trim());
    let cut = reference_text.find(&stop).unwrap();
    let sdk = started().await;
    let done = create(
        &sdk,
        &format!(r#""max_tokens": 40, "stop": ["{stop}"]"#),
        JsValue::UNDEFINED,
    )
    .await
    .unwrap_or_else(|e| panic!("create: {}", get_str(&e, "message")));
    assert_eq!(get_str(&done, "object"), "chat.completion");
    let c = choice(&done);
    assert_eq!(get_str(&c, "finish_reason"), "stop");
    let message = get(&c, "message");
    assert_eq!(get_str(&message, "role"), "assistant");
    assert_eq!(get_str(&message, "content"), reference_text[..cut]);
    assert!(get_num(&get(&done, "usage"), "completion_tokens") >= 1.0);
    call(sdk.stop()).await.unwrap();
}

#[wasm_bindgen_test]
async fn unsupported_parameters_and_long_prompts_are_typed_errors() {
    let sdk = started().await;
    let error = create(&sdk, r#""tools": []"#, JsValue::UNDEFINED)
        .await
        .unwrap_err();
    assert_eq!(get_str(&error, "code"), "INVALID_ARGUMENT");
    assert!(get_str(&error, "message").contains("tools"));
    let error = create(
        &sdk,
        r#""max_tokens": 1"#,
        js_config(r#"{ "timeout": 5000 }"#),
    )
    .await
    .unwrap_err();
    assert_eq!(get_str(&error, "code"), "INVALID_ARGUMENT");
    assert!(get_str(&error, "message").contains("options.timeout"));
    // More words than the announced context (2048): refused before anything is sent.
    too_long(&sdk, "word ", 3000).await;
    // Few words, many tokens each: only the server can tell, and its answer reaches the page typed.
    let error = too_long(&sdk, "xqzvbwkp ", 1200).await;
    assert!(get_str(&error, "message").contains("context"));
    call(sdk.stop()).await.unwrap();
}

/// Asks tiny-llama with one user message of `word` repeated `times`; the `PROMPT_TOO_LONG` error.
async fn too_long(sdk: &FabstirSdk, word: &str, times: usize) -> JsValue {
    let long = word.repeat(times);
    let params = js_config(&format!(
        r#"{{ "model": "tiny-llama", "messages": [{{ "role": "user", "content": "{long}" }}] }}"#
    ));
    let error = call(sdk.chat().completions().create(params, JsValue::UNDEFINED))
        .await
        .unwrap_err();
    let message = get_str(&error, "message");
    assert_eq!(get_str(&error, "code"), "PROMPT_TOO_LONG", "{message}");
    error
}

/// Whether llama-1 is generating now (its `/slots` endpoint), and the tokens it generated since
/// it started (its `/metrics` counter `llamacpp:tokens_predicted_total`, cancelled requests too).
async fn slot() -> (bool, f64) {
    let slots = Function::new_with_args(
        "url",
        "return Promise.all([
           fetch(url + '/slots').then(r => r.json()).then(s => s[0].is_processing),
           fetch(url + '/metrics').then(r => r.text())
             .then(t => Number(t.match(/^llamacpp:tokens_predicted_total (\\d+)/m)[1])),
         ])",
    );
    let promise: js_sys::Promise = slots.call1(&JsValue::NULL, &LLAMA.into()).unwrap().into();
    let answer = js_sys::Array::from(&JsFuture::from(promise).await.unwrap());
    (
        answer.get(0).as_bool().unwrap(),
        answer.get(1).as_f64().unwrap(),
    )
}

#[wasm_bindgen_test]
async fn aborting_stops_the_servers_generation() {
    let sdk = started().await;
    let (_, before) = slot().await;
    let controller = web_sys::AbortController::new().unwrap();
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"signal".into(), &controller.signal()).unwrap();
    let stream = create(
        &sdk,
        r#""max_tokens": 1900, "stream": true"#,
        options.into(),
    )
    .await
    .unwrap();
    let job = get(&stream, "job");
    let next = || call_method(&stream, "next", &[]);
    for _ in 0..3 {
        assert!(!get(&next().await.unwrap(), "done").as_bool().unwrap());
    }
    controller.abort();
    let mut error = None;
    for _ in 0..2000 {
        match next().await {
            Ok(r) if get(&r, "done").as_bool().unwrap() => break,
            Ok(_) => {}
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let error = error.expect("the stream throws once aborted");
    assert_eq!(get_str(&error, "code"), "CANCELLED");
    let received = get_num(&job, "tokenCount");
    assert!(received < 1900.0, "{received} tokens");
    // The host closed its request, and llama.cpp stopped generating: its slot is idle, and it
    // generated fewer than the 1,900 tokens asked for (an answer left to run on would have
    // reached them: nothing else stops it).
    let mut last = None;
    for _ in 0..50 {
        match slot().await {
            (false, after) => {
                last = Some(after - before);
                break;
            }
            (true, _) => sleep_ms(100).await,
        }
    }
    let decoded = last.expect("llama-server still generating 5 s after the abort");
    assert!(decoded < 1900.0, "the server generated {decoded} tokens");
    let info = call(sdk.get_node_info(get_str(&job, "nodeId")))
        .await
        .unwrap();
    assert!(get_num(&get(&info, "stats"), "jobsCancelled") >= 1.0);
    console_log!(
        "aborted after {received} of 1900 tokens; the server stopped after generating {decoded}"
    );
    call(sdk.stop()).await.unwrap();
}

async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

/// Waits (up to 30 s) until a fresh lookup of tiny-llama finds and reaches `peer`.
async fn wait_for_host(sdk: &FabstirSdk, peer: &str) {
    for _ in 0..60 {
        let options = js_config(r#"{ "modelId": "tiny-llama", "forceRefresh": true }"#);
        if let Ok(found) = call(sdk.discover_nodes(options)).await {
            if js_sys::Array::from(&found)
                .iter()
                .any(|n| get_str(&n, "peerId") == peer)
            {
                return;
            }
        }
        sleep_ms(500).await;
    }
    panic!("{peer} was not reachable again within 30 s of its restart");
}

#[wasm_bindgen_test]
async fn a_llama_host_killed_mid_answer_fails_over_to_the_other() {
    let (expected, _) = reference(1500, "").await;
    let sdk = started().await;
    let recorder = Recorder::attach(&sdk, &["job:failover"]);
    let stream = create(
        &sdk,
        r#""max_tokens": 1500, "stream": true"#,
        JsValue::UNDEFINED,
    )
    .await
    .unwrap();
    let job = get(&stream, "job");
    let first = get_str(&job, "nodeId");
    assert_eq!(
        first,
        node_addr("host-h-id"),
        "the cheaper, relayed host first"
    );
    // Kill it at its 100th token.
    let killed = std::rc::Rc::new(std::cell::Cell::new(false));
    let flag = killed.clone();
    let kill = Closure::<dyn FnMut(JsValue)>::new(move |t: JsValue| {
        if get_num(&t, "index") == 100.0 {
            let flag = flag.clone();
            wasm_bindgen_futures::spawn_local(async move {
                fault("kill?name=host-h").await;
                flag.set(true);
            });
        }
    });
    method(&job, "on")
        .call2(&job, &"token".into(), kill.as_ref())
        .unwrap();
    let all = chunks(&stream).await;
    if killed.get() {
        fault("start?name=host-h").await;
        // The next tests expect host-h back: reachable through the relay and serving again.
        wait_for_host(&sdk, &node_addr("host-h-id")).await;
    }
    let all = all.unwrap_or_else(|e| panic!("the answer failed: {}", get_str(&e, "message")));
    let text: String = all
        .iter()
        .filter_map(|c| {
            let c = choice(c);
            get(&get(&c, "delta"), "content").as_string()
        })
        .collect();
    let events = recorder.of("job:failover");
    assert_eq!(events.len(), 1, "one failover");
    let at = get_num(&events[0], "resumedAt");
    assert!((100.0..1500.0).contains(&at), "resumed at {at}");
    assert_eq!(get_str(&job, "nodeId"), host_id("host-g"));
    // The other host asked llama-1 to continue the conversation after the text received; its
    // echo of that text was stripped, and greedy decoding continues it as it would have gone on.
    assert_eq!(
        text, expected,
        "the answer after failover is the uninterrupted one"
    );
    console_log!("llama failover: host-h killed at token 100, host-g went on from token {at}; 1500 tokens exact");
    drop(kill);
    call(sdk.stop()).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_stopped_model_server_fails_its_model_while_the_hosts_demo_model_works() {
    let sdk = started().await;
    fault("kill?name=llama-2").await;
    let params = js_config(
        r#"{ "model": "tiny-llama-2", "messages": [{ "role": "user", "content": "hi" }], "max_tokens": 5 }"#,
    );
    let failed = call(sdk.chat().completions().create(params, JsValue::UNDEFINED)).await;
    let demo = js_config(
        r#"{ "model": "demo-g", "messages": [{ "role": "user", "content": "hi" }], "max_tokens": 5 }"#,
    );
    let worked = call(sdk.chat().completions().create(demo, JsValue::UNDEFINED)).await;
    fault("start?name=llama-2").await;
    let error = failed.expect_err("a job on a stopped server");
    assert_eq!(
        get_str(&error, "code"),
        "BACKEND_FAILED",
        "{}",
        get_str(&error, "message")
    );
    let worked = worked.unwrap_or_else(|e| panic!("demo-g: {}", get_str(&e, "message")));
    let content = get_str(&get(&choice(&worked), "message"), "content");
    assert_eq!(content.split(' ').count(), 5);
    call(sdk.stop()).await.unwrap();
}

#[wasm_bindgen_test]
async fn two_answers_at_once_on_a_one_slot_server_both_complete() {
    let (expected, _) = reference(400, "").await;
    let sdk = started().await;
    let recorder = Recorder::attach(&sdk, &["job:retry"]);
    // Each host runs one generation of tiny-llama at once (parallel: 1) and both share one server
    // slot: a second answer is told busy and retried, or waits in the server's queue; it never
    // fails on a read timeout.
    let ask = || {
        create(
            &sdk,
            r#""max_tokens": 400, "fabstir": { "retry": { "maxRetries": 10, "initialDelay": 200 } }"#,
            JsValue::UNDEFINED,
        )
    };
    let began = js_sys::Date::now();
    let (a, b) = futures::join!(ask(), ask());
    let took = js_sys::Date::now() - began;
    for done in [a, b] {
        let done =
            done.unwrap_or_else(|e| panic!("{}: {}", get_str(&e, "code"), get_str(&e, "message")));
        assert_eq!(
            get_str(&get(&choice(&done), "message"), "content"),
            expected
        );
    }
    console_log!(
        "two answers at once on one slot: both exact in {took:.0} ms, {} busy retries",
        recorder.of("job:retry").len()
    );
    call(sdk.stop()).await.unwrap();
}

#[wasm_bindgen_test]
async fn an_answer_cut_short_without_a_finish_reason_fails_over_instead_of_ending() {
    let (expected, _) = reference(200, "").await;
    // host-h (the cheaper) serves tiny-llama-cut through a proxy that ends every answer after 20
    // tokens with [DONE] and no finish_reason, as llama-cpp-python does when interrupted.
    let (sdk, done, failover) = cut_at_20_on_host_h("tiny-llama-cut").await;
    assert!(get_str(&failover, "reason").contains("no finish_reason"));
    assert_eq!(
        get_str(&get(&choice(&done), "message"), "content"),
        expected
    );
    call(sdk.stop()).await.unwrap();
}

/// Asks 200 tokens of `model`, which host-h (the cheaper) serves through a proxy that cuts every
/// answer after 20 chunks; checks the one failover away from host-h at token 20 and that the
/// answer still ends at its length. The SDK, the completion and the failover event.
async fn cut_at_20_on_host_h(model: &str) -> (FabstirSdk, JsValue, JsValue) {
    let sdk = started().await;
    let recorder = Recorder::attach(&sdk, &["job:failover"]);
    let params = js_config(&format!(
        r#"{{ "model": "{model}", "messages": {MESSAGES}, "temperature": 0, "seed": 7, "max_tokens": 200 }}"#
    ));
    let done = call(sdk.chat().completions().create(params, JsValue::UNDEFINED))
        .await
        .unwrap_or_else(|e| panic!("{}: {}", get_str(&e, "code"), get_str(&e, "message")));
    let events = recorder.of("job:failover");
    assert_eq!(events.len(), 1, "the cut answer failed over");
    assert_eq!(get_str(&events[0], "fromNode"), node_addr("host-h-id"));
    assert_eq!(get_num(&events[0], "resumedAt"), 20.0);
    assert_eq!(get_str(&choice(&done), "finish_reason"), "length");
    let failover = events[0].clone();
    (sdk, done, failover)
}

/// A figure for the record, not a bound: the same answer's time to first token and tokens per
/// second from llama.cpp, through the network (relayed host) and over plain HTTP from this page.
#[wasm_bindgen_test]
async fn measures_llama_through_the_relay_beside_plain_http() {
    let sdk = started().await;
    let direct_stream = Function::new_with_args(
        "url, body",
        "return (async () => {
           const t0 = performance.now();
           const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
           const reader = r.body.getReader(); const dec = new TextDecoder();
           let first = 0, n = 0, rest = '';
           for (;;) {
             const { value, done } = await reader.read(); if (done) break;
             rest += dec.decode(value, { stream: true });
             const lines = rest.split('\\n'); rest = lines.pop();
             for (const l of lines) if (l.startsWith('data: {') && l.includes('\"content\":\"')) { if (!n) first = performance.now(); n++; }
           }
           return [first - t0, n, performance.now() - first];
         })()",
    );
    let through_relay = Function::new_with_args(
        "stream",
        "return (async () => {
           const t0 = performance.now(); let first = 0, n = 0;
           for await (const c of stream) { if (c.choices[0]?.delta.content) { if (!n) first = performance.now(); n++; } }
           return [first - t0, n, performance.now() - first];
         })()",
    );
    let tokens = 400;
    let body = format!(
        r#"{{ "messages": {MESSAGES}, "max_tokens": {tokens}, "temperature": 0, "seed": 7, "stream": true }}"#
    );
    let (mut relay, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let began = js_sys::Date::now();
        let stream = create(
            &sdk,
            &format!(r#""max_tokens": {tokens}, "stream": true"#),
            JsValue::UNDEFINED,
        )
        .await
        .unwrap();
        let created = js_sys::Date::now() - began;
        let promise: js_sys::Promise = through_relay.call1(&JsValue::NULL, &stream).unwrap().into();
        let r = js_sys::Array::from(&JsFuture::from(promise).await.unwrap());
        let n = r.get(1).as_f64().unwrap();
        assert_eq!(n, f64::from(tokens));
        relay.push((
            created + r.get(0).as_f64().unwrap(),
            (n - 1.0) / (r.get(2).as_f64().unwrap() / 1000.0),
        ));
        let promise: js_sys::Promise = direct_stream
            .call2(
                &JsValue::NULL,
                &format!("{LLAMA}/v1/chat/completions").into(),
                &body.clone().into(),
            )
            .unwrap()
            .into();
        let d = js_sys::Array::from(&JsFuture::from(promise).await.unwrap());
        let n = d.get(1).as_f64().unwrap();
        plain.push((
            d.get(0).as_f64().unwrap(),
            (n - 1.0) / (d.get(2).as_f64().unwrap() / 1000.0),
        ));
    }
    let median = |v: &mut Vec<(f64, f64)>, i: usize| {
        let mut x: Vec<f64> = v.iter().map(|p| if i == 0 { p.0 } else { p.1 }).collect();
        x.sort_by(f64::total_cmp);
        x[x.len() / 2]
    };
    console_log!(
        "llama.cpp, {tokens} tokens, median of 3: through the relay (create() to first chunk, incl. discovery and negotiation) {:.0} ms, {:.0} tokens/s; plain HTTP from the page {:.0} ms, {:.0} tokens/s",
        median(&mut relay, 0),
        median(&mut relay, 1),
        median(&mut plain, 0),
        median(&mut plain, 1)
    );
    call(sdk.stop()).await.unwrap();
}

/// llama-cpp-python differs from llama-server (node/src/backend/openai/): its stream carries no
/// usage even when asked for it, and it does not repeat a last assistant message. Through host-g
/// the page still gets exactly the server's text, one chunk per token, the server's count of the
/// answer and the host's count of the prompt, marked estimated (in the receipt too).
#[wasm_bindgen_test]
async fn llama_cpp_pythons_server_behind_a_host_is_its_text_byte_for_byte() {
    let answer = answer_of(LLAMA_PY, 40, "").await;
    let expected = get_str(&get(&choice(&answer), "message"), "content");
    let finish = get_str(&choice(&answer), "finish_reason");
    let server_tokens = get_num(&get(&answer, "usage"), "completion_tokens");
    assert!(!expected.is_empty() && server_tokens > 0.0);
    let sdk = started().await;
    let params = js_config(&format!(
        r#"{{ "model": "tiny-llama-py", "messages": {MESSAGES}, "temperature": 0, "seed": 7,
            "max_tokens": 40, "stream": true, "stream_options": {{ "include_usage": true }} }}"#
    ));
    let stream = call(sdk.chat().completions().create(params, JsValue::UNDEFINED))
        .await
        .unwrap_or_else(|e| panic!("{}: {}", get_str(&e, "code"), get_str(&e, "message")));
    let all = chunks(&stream).await.unwrap();
    let n = all.len();
    assert_eq!(
        get_str(&get(&all[0], "fabstir"), "nodeId"),
        node_addr("host-g-id")
    );
    let tokens: Vec<String> = all[1..n - 2]
        .iter()
        .map(|c| get_str(&get(&choice(c), "delta"), "content"))
        .collect();
    let text = tokens.concat();
    assert_eq!(text, expected, "the page's text is llama-cpp-python's");
    assert_eq!(tokens.len() as f64, server_tokens, "one chunk per token");
    assert_eq!(get_str(&choice(&all[n - 2]), "finish_reason"), finish);
    let usage = get(&all[n - 1], "usage");
    assert_eq!(get_num(&usage, "completion_tokens"), server_tokens);
    let messages: Vec<fabstir_protocol::chat::ChatMessage> =
        serde_json::from_str(MESSAGES).unwrap();
    let estimate = fabstir_protocol::chat::estimate_prompt_tokens(&messages) as f64;
    assert_eq!(get_num(&usage, "prompt_tokens"), estimate);
    let last = get(&all[n - 2], "fabstir");
    assert_eq!(get(&last, "promptEstimated").as_bool(), Some(true));
    // host-g's prices for it: 2 per token, 1 per prompt token (scripts/test-nodes.sh).
    assert_eq!(get_num(&last, "cost"), 2.0 * server_tokens + estimate);
    let receipt = get(&last, "receipt");
    assert_eq!(get_num(&receipt, "completionTokens"), server_tokens);
    assert_eq!(get_num(&receipt, "promptTokens"), estimate);
    assert_eq!(
        get_str(&receipt, "outputSha256"),
        fabstir_protocol::receipt::sha256_hex(text.as_bytes())
    );
    FabstirSdk::verify_receipt(receipt).unwrap();
    call(sdk.stop()).await.unwrap();
}

/// llama-cpp-python 0.3 answers a streamed prompt longer than its context with HTTP 200 and an
/// event stream with nothing in it, not even `[DONE]`: the page gets a typed error that says
/// so (the host's model server failed, on every host tried), not an empty answer.
#[wasm_bindgen_test]
async fn llama_cpp_pythons_empty_answer_to_a_long_prompt_is_a_typed_error() {
    let sdk = started().await;
    // Few words (the host's context check passes them), many tokens each.
    let long = "xqzvbwkp ".repeat(1200);
    let params = js_config(&format!(
        r#"{{ "model": "tiny-llama-py", "messages": [{{ "role": "user", "content": "{long}" }}] }}"#
    ));
    let error = call(sdk.chat().completions().create(params, JsValue::UNDEFINED))
        .await
        .unwrap_err();
    let message = get_str(&error, "message");
    assert_eq!(get_str(&error, "code"), "BACKEND_FAILED", "{message}");
    assert!(message.contains("empty event stream"), "{message}");
    call(sdk.stop()).await.unwrap();
}

/// llama-cpp-python cannot continue a last assistant message: given one, it starts a new answer
/// (a job failed over to it that way would read as two answers joined). Its hosts continue by
/// replay: the conversation asked again, the text received held back until the answer has
/// repeated it exactly, then only what follows. host-h serves tiny-llama-py-cut through a proxy
/// that cuts every answer after 20 chunks as llama-cpp-python's own interruption does; the job
/// fails over to host-g, which replays on llama-py: the page gets the server's answer exactly.
#[wasm_bindgen_test]
async fn a_job_failed_over_to_a_llama_cpp_python_host_continues_exactly_by_replay() {
    let answer = answer_of(LLAMA_PY, 200, "").await;
    let expected = get_str(&get(&choice(&answer), "message"), "content");
    let (sdk, done, _) = cut_at_20_on_host_h("tiny-llama-py-cut").await;
    assert_eq!(
        get_str(&get(&choice(&done), "message"), "content"),
        expected
    );
    // The replayed tokens are not billed again: 20 from host-h and 180 from host-g.
    let usage = get(&done, "usage");
    assert_eq!(get_num(&usage, "completion_tokens"), 200.0);
    call(sdk.stop()).await.unwrap();
}
