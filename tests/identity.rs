//! Browser tests of the SDK's identity (issue 14): `identity.persist` keeps the peer id, host
//! records and receipts in the origin's IndexedDB for the next SDK of the page; `identity.key`
//! imports a key; and with a known key a node's `security.allowlist` admits the page and its
//! `security.blocklist` refuses it. (A real page reload is tested by the packaging test's
//! drive.mjs.)
#![cfg(target_arch = "wasm32")]

mod support;

use fabstir_protocol::demo::demo_text;
use fabstir_sdk::wasm::FabstirSdk;
use support::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Deletes the SDK's IndexedDB database, so a test starts with nothing kept.
async fn forget_everything() {
    let delete = js_sys::Function::new_no_args(
        "return new Promise((done) => { const q = indexedDB.deleteDatabase('fabstir-sdk'); \
         q.onsuccess = q.onerror = q.onblocked = () => done(); })",
    );
    call(delete.call0(&JsValue::NULL).unwrap().into())
        .await
        .unwrap();
}

/// An SDK on the relay with `identity` (JSON text).
fn sdk_with_identity(identity: &str) -> FabstirSdk {
    let relay = node_addr("ws");
    FabstirSdk::new(js_config(&format!(
        r#"{{ "identity": {identity}, "p2pConfig": {{ "bootstrapNodes": ["{relay}"], "retryDelay": 200 }} }}"#
    )))
    .unwrap()
}

/// Runs a 40-token job of `model`: the job, once its text arrived, and the text.
async fn job_of(sdk: &FabstirSdk, model: &str, prompt: &str) -> Result<(JsValue, String), JsValue> {
    let request = js_config(&format!(
        r#"{{ "modelId": "{model}", "prompt": "{prompt}", "maxTokens": 40 }}"#
    ));
    let job = call(sdk.submit_job_with_negotiation(request)).await?;
    let text = call_method(&job, "text", &[]).await?;
    Ok((job, text.as_string().unwrap_or_default()))
}

#[wasm_bindgen_test]
async fn a_persisted_identity_comes_back_with_its_receipts_and_host_records() {
    forget_everything().await;
    let first = sdk_with_identity(r#"{ "persist": true }"#);
    let err = first.get_peer_id().unwrap_err();
    assert_eq!(
        get_str(&err, "code"),
        "NOT_STARTED",
        "the kept key is read by start()"
    );
    call(first.start()).await.unwrap();
    let me = first.get_peer_id().unwrap();
    let (job, _) = job_of(&first, "demo-1", "kept").await.unwrap();
    let host = get_str(&job, "nodeId");
    let envelope = get_str(&get(&job, "receipt"), "envelope");
    assert!(!envelope.is_empty(), "the job has a receipt");
    assert_eq!(first.get_receipts().length(), 1);
    call(first.stop()).await.unwrap();
    drop(first);

    // The next SDK of this origin (as after a reload) has the same peer id, the receipt and
    // what the first learnt of the host.
    let second = sdk_with_identity(r#"{ "persist": true }"#);
    assert_eq!(
        second.get_receipts().length(),
        0,
        "nothing is read before start()"
    );
    call(second.start()).await.unwrap();
    assert_eq!(second.get_peer_id().unwrap(), me, "the same peer id");
    let kept: Vec<JsValue> = second.get_receipts().iter().collect();
    assert_eq!(kept.len(), 1, "the receipt is kept");
    assert_eq!(get_str(&kept[0], "envelope"), envelope);
    assert_eq!(get_str(&kept[0], "client"), me);
    FabstirSdk::verify_receipt(kept[0].clone()).unwrap();
    let record = second.get_node_reliability(host.clone()).unwrap();
    assert_eq!(
        get_num(&record, "successfulJobs"),
        1.0,
        "{host}'s record is kept"
    );
    let (job, _) = job_of(&second, "demo-1", "kept again").await.unwrap();
    assert_eq!(second.get_receipts().length(), 2);
    assert_eq!(get_str(&get(&job, "receipt"), "client"), me);
    call(second.stop()).await.unwrap();

    // Without `persist` a page gets a new peer id each time, and nothing kept.
    let fresh = sdk_with_identity("{}");
    assert_ne!(fresh.get_peer_id().unwrap(), me);
    call(fresh.start()).await.unwrap();
    assert_eq!(fresh.get_receipts().length(), 0);
    call(fresh.stop()).await.unwrap();
    forget_everything().await;
}

#[wasm_bindgen_test]
async fn an_imported_key_is_the_peer_id_and_with_persist_replaces_the_kept_one() {
    forget_everything().await;
    let key = node_addr("page-allowed-key");
    let id = node_addr("page-allowed-id");
    let imported = sdk_with_identity(&format!(r#"{{ "key": "{key}" }}"#));
    assert_eq!(imported.get_peer_id().unwrap(), id, "known before start()");
    let kept = sdk_with_identity(&format!(r#"{{ "key": "{key}", "persist": true }}"#));
    call(kept.start()).await.unwrap();
    assert_eq!(kept.get_peer_id().unwrap(), id);
    call(kept.stop()).await.unwrap();
    let next = sdk_with_identity(r#"{ "persist": true }"#);
    call(next.start()).await.unwrap();
    assert_eq!(
        next.get_peer_id().unwrap(),
        id,
        "the imported key is the kept one now"
    );
    call(next.stop()).await.unwrap();
    forget_everything().await;

    for bad in [r#""AAAA""#, r#""not base64!""#, "42"] {
        let relay = node_addr("ws");
        let err = FabstirSdk::new(js_config(&format!(
            r#"{{ "identity": {{ "key": {bad} }}, "p2pConfig": {{ "bootstrapNodes": ["{relay}"] }} }}"#
        )))
        .err()
        .unwrap();
        assert_eq!(get_str(&err, "code"), "INVALID_CONFIG", "{bad}");
        assert!(get_str(&err, "message").contains("identity.key"), "{bad}");
    }
}

#[wasm_bindgen_test]
async fn a_page_without_indexeddb_gets_storage_failed_and_the_sdk_stays_usable() {
    // The page's own `indexedDB` shadowed (as where a browser refuses storage), then restored.
    let hide = js_sys::Function::new_no_args(
        "const own = Object.getOwnPropertyDescriptor(globalThis, 'indexedDB'); \
         Object.defineProperty(globalThis, 'indexedDB', { value: undefined, configurable: true }); \
         return () => own ? Object.defineProperty(globalThis, 'indexedDB', own) \
                          : delete globalThis.indexedDB;",
    );
    let restore: js_sys::Function = hide.call0(&JsValue::NULL).unwrap().into();
    let sdk = sdk_with_identity(r#"{ "persist": true }"#);
    let err = call(sdk.start()).await.unwrap_err();
    restore.call0(&JsValue::NULL).unwrap();
    assert_eq!(
        get_str(&err, "code"),
        "STORAGE_FAILED",
        "{}",
        get_str(&err, "message")
    );
    assert!(
        get_str(&err, "message").contains("IndexedDB"),
        "{}",
        get_str(&err, "message")
    );
    assert!(!sdk.is_started());
    // With storage back, the same object starts.
    call(sdk.start()).await.unwrap();
    assert!(sdk.get_peer_id().is_ok());
    call(sdk.stop()).await.unwrap();
    forget_everything().await;
}

/// The outcome of a job of `model` for a page with `identity`: the host's text, or the error.
async fn outcome(identity: &str, model: &str, seed: u64) -> Result<(), String> {
    let sdk = sdk_with_identity(identity);
    call(sdk.start()).await.unwrap();
    let result = job_of(&sdk, model, "guarded").await;
    call(sdk.stop()).await.unwrap();
    match result {
        Ok((_, text)) => {
            assert_eq!(text, demo_text(seed, "guarded", 40));
            Ok(())
        }
        Err(e) => Err(format!(
            "{}: {}",
            get_str(&e, "code"),
            get_str(&e, "message")
        )),
    }
}

#[wasm_bindgen_test]
async fn a_nodes_allowlist_admits_the_page_by_its_key_and_its_blocklist_refuses_it() {
    let allowed = format!(r#"{{ "key": "{}" }}"#, node_addr("page-allowed-key"));
    let blocked = format!(r#"{{ "key": "{}" }}"#, node_addr("page-blocked-key"));
    // guard-allow (security.allowlist: [page-allowed]) serves guarded-allow at seed 91,
    // guard-block (security.blocklist: [page-blocked]) serves guarded-block at seed 92.
    outcome(&allowed, "guarded-allow", 91)
        .await
        .expect("the allowlisted page is admitted");
    let refused = outcome("{}", "guarded-allow", 91).await;
    assert!(refused.is_err(), "a page not on the allowlist is refused");
    outcome("{}", "guarded-block", 92)
        .await
        .expect("a page not on the blocklist is admitted");
    let refused = outcome(&blocked, "guarded-block", 92).await;
    assert!(refused.is_err(), "the blocklisted page is refused");
    web_sys::console::log_1(&format!("refused page: {}", refused.unwrap_err()).into());
}
