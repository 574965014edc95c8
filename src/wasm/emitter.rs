//! Event listeners registered from JavaScript with `on(name, cb)` / `off(name, cb)`.

use std::cell::RefCell;

use js_sys::Function;
use serde::Serialize;
use wasm_bindgen::JsValue;

use crate::error::SdkError;
use crate::events::SdkEvent;

/// The listeners of one SDK instance.
pub struct Emitter {
    listeners: RefCell<Vec<(&'static str, Function)>>,
    debug: bool,
}

impl Emitter {
    /// An emitter that also logs every event to the console when `debug` is set.
    pub fn new(debug: bool) -> Self {
        Emitter {
            listeners: RefCell::new(Vec::new()),
            debug,
        }
    }

    /// Adds `callback` for the event `name`; unknown names are an `INVALID_ARGUMENT` error.
    pub fn on(&self, name: &str, callback: Function) -> Result<(), SdkError> {
        let name = known_name(name)?;
        self.listeners.borrow_mut().push((name, callback));
        Ok(())
    }

    /// Removes `callback` from the event `name` (one registration of it).
    pub fn off(&self, name: &str, callback: &Function) -> Result<(), SdkError> {
        let name = known_name(name)?;
        let mut listeners = self.listeners.borrow_mut();
        if let Some(i) = listeners
            .iter()
            .position(|(n, f)| *n == name && f == callback)
        {
            listeners.remove(i);
        }
        Ok(())
    }

    /// Whether anyone listens to `name` (lets hot paths skip building the event).
    pub fn has_listeners(&self, name: &str) -> bool {
        self.debug || self.listeners.borrow().iter().any(|(n, _)| *n == name)
    }

    /// Calls every listener of the event's name with the event as a plain object. A listener
    /// that throws is logged and does not stop the others.
    pub fn emit(&self, event: &SdkEvent) {
        let name = event.name();
        let serializer = serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true);
        let value = match event.serialize(&serializer) {
            Ok(v) => v,
            Err(e) => {
                web_sys::console::error_1(
                    &format!("fabstir-sdk: cannot convert event {name}: {e}").into(),
                );
                return;
            }
        };
        if self.debug {
            web_sys::console::debug_2(&format!("fabstir-sdk {name}").into(), &value);
        }
        // Copy first: a listener may call on()/off() while we iterate.
        let callbacks: Vec<Function> = self
            .listeners
            .borrow()
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, f)| f.clone())
            .collect();
        for callback in callbacks {
            if let Err(thrown) = callback.call1(&JsValue::UNDEFINED, &value) {
                web_sys::console::error_2(
                    &format!("fabstir-sdk: a listener for {name} threw").into(),
                    &thrown,
                );
            }
        }
    }
}

fn known_name(name: &str) -> Result<&'static str, SdkError> {
    SdkEvent::NAMES
        .iter()
        .copied()
        .find(|n| *n == name)
        .ok_or_else(|| {
            SdkError::argument(
                "name",
                format!(
                    "unknown event {name:?}; known events: {}",
                    SdkEvent::NAMES.join(", ")
                ),
            )
        })
}
