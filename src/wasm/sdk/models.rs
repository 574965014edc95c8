//! The network's models (issue 12): `listModels()` and `sdk.models.list()` in the shape of the
//! `openai` package's `models.list()`, from the bootstrap nodes' catalogs, every host record
//! checked against its host's signature.

use super::*;
use fabstir_protocol::catalog::ModelSummary;

/// `sdk.models`: the network's models, as in the `openai` package.
#[wasm_bindgen]
pub struct Models {
    inner: Rc<Shared>,
}

/// One entry of `models.list()`'s `data`.
#[derive(Serialize)]
struct ModelEntry {
    id: String,
    object: &'static str,
    /// Unknown (hosts do not announce when a model was made): 0.
    created: u64,
    owned_by: &'static str,
    fabstir: ModelSummary,
}

/// `models.list()`'s answer.
#[derive(Serialize)]
struct ModelList {
    object: &'static str,
    data: Vec<ModelEntry>,
}

async fn summaries(inner: &Shared) -> Result<Vec<ModelSummary>, JsValue> {
    inner
        .client()
        .map_err(to_js)?
        .market()
        .list_models()
        .await
        .map_err(to_js)
}

#[wasm_bindgen(js_class = FabstirSDK)]
impl FabstirSdk {
    /// The network's models in the shape of the `openai` package (`sdk.models.list()`).
    #[wasm_bindgen(getter)]
    pub fn models(&self) -> Models {
        Models {
            inner: self.inner.clone(),
        }
    }

    /// Every model the bootstrap nodes' catalogs list, with its host count, price range and
    /// free slots, summarised from host records checked against their hosts' signatures.
    /// A lookup of one of them within `discoveryCacheTtl` after (a job, `discoverNodes`
    /// without `forceRefresh`) finds its hosts in this answer, without asking again.
    #[wasm_bindgen(js_name = listModels, unchecked_return_type = "Promise<CatalogModel[]>")]
    pub fn list_models(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move { to_value(Ok(summaries(&inner).await?)) })
    }
}

#[wasm_bindgen]
impl Models {
    /// `{ object: "list", data: [{ id, object: "model", created, owned_by, fabstir }] }`.
    #[wasm_bindgen(unchecked_return_type = "Promise<ModelList>")]
    pub fn list(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let data = summaries(&inner)
                .await?
                .into_iter()
                .map(|m| ModelEntry {
                    id: m.id.clone(),
                    object: "model",
                    created: 0,
                    owned_by: "fabstir",
                    fabstir: m,
                })
                .collect();
            to_value(Ok(ModelList {
                object: "list",
                data,
            }))
        })
    }
}
