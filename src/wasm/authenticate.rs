//! The page's `p2pConfig.security.authenticate(peerId)` callback: taken out of the config object
//! (a function is not data), and called for each question the core asks.

use futures::channel::mpsc;
use futures::StreamExt;
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::error::SdkError;
use crate::market::security::Approval;

/// Splits `config` into a copy without `p2pConfig.security.authenticate` (for the data parser)
/// and the callback, if one is given. Anything there that is not a function is `INVALID_CONFIG`.
pub(super) fn take_authenticate(config: &JsValue) -> Result<(JsValue, Option<Function>), SdkError> {
    let field = |o: &JsValue, k: &str| -> Option<JsValue> {
        o.is_object()
            .then(|| Reflect::get(o, &k.into()).ok())
            .flatten()
            .filter(|v| !v.is_undefined())
    };
    let Some(p2p) = field(config, "p2pConfig") else {
        return Ok((config.clone(), None));
    };
    let Some(security) = field(&p2p, "security") else {
        return Ok((config.clone(), None));
    };
    let Some(callback) = field(&security, "authenticate") else {
        return Ok((config.clone(), None));
    };
    let Ok(callback) = callback.dyn_into::<Function>() else {
        return Err(SdkError::config(
            "p2pConfig.security.authenticate",
            "must be a function (peerId: string) => boolean | Promise<boolean>",
        ));
    };
    // Shallow copies down the path; the page's own objects are not touched.
    let copy = |o: &JsValue| Object::assign(&Object::new(), &Object::from(o.clone()));
    let security = copy(&security);
    let _ = Reflect::delete_property(&security, &"authenticate".into());
    let p2p = copy(&p2p);
    let _ = Reflect::set(&p2p, &"security".into(), &security);
    let config = copy(config);
    let _ = Reflect::set(&config, &"p2pConfig".into(), &p2p);
    Ok((config.into(), Some(callback)))
}

/// Answers the core's questions with `callback` until the SDK stops; several at once.
pub(super) async fn answer(callback: Function, questions: mpsc::Receiver<Approval>) {
    questions
        .for_each_concurrent(None, |(peer, reply)| {
            let callback = callback.clone();
            async move {
                let _ = reply.send(ask(&callback, &peer.to_string()).await);
            }
        })
        .await;
}

async fn ask(callback: &Function, peer: &str) -> Result<bool, String> {
    let returned = callback
        .call1(&JsValue::UNDEFINED, &peer.into())
        .map_err(|e| crate::net::rt::js_text(&e))?;
    let value = match returned.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .map_err(|e| crate::net::rt::js_text(&e))?,
        Err(plain) => plain,
    };
    Ok(value.as_bool() == Some(true))
}
