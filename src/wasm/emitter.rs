//! Event listeners registered from JavaScript with `on(name, cb)` / `off(name, cb)`.

use std::cell::RefCell;

use js_sys::Function;
use serde::Serialize;
use wasm_bindgen::JsValue;

use crate::error::SdkError;
use crate::events::SdkEvent;

/// JavaScript callbacks registered by event name. A callback that throws is logged and does not
/// stop the others. Shared by the SDK's events and each `Job`'s events.
pub struct Listeners {
    list: RefCell<Vec<(&'static str, Function)>>,
    /// How the console names these listeners, e.g. `a listener` or `a job listener`.
    label: &'static str,
}

impl Listeners {
    /// An empty set; `label` names them in console messages.
    pub fn new(label: &'static str) -> Self {
        Listeners {
            list: RefCell::new(Vec::new()),
            label,
        }
    }

    /// Adds `callback` for `name`.
    pub fn add(&self, name: &'static str, callback: Function) {
        self.list.borrow_mut().push((name, callback));
    }

    /// Removes one registration of `callback` for `name`.
    pub fn remove(&self, name: &str, callback: &Function) {
        let mut list = self.list.borrow_mut();
        if let Some(i) = list.iter().position(|(n, f)| *n == name && f == callback) {
            list.remove(i);
        }
    }

    /// Whether any callback listens to `name`.
    pub fn has(&self, name: &str) -> bool {
        self.list.borrow().iter().any(|(n, _)| *n == name)
    }

    /// Calls every callback of `name` with `value`.
    pub fn call(&self, name: &str, value: &JsValue) {
        // Copy first: a listener may call on()/off() while we iterate.
        let callbacks: Vec<Function> = self
            .list
            .borrow()
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, f)| f.clone())
            .collect();
        for callback in callbacks {
            self.call_one(&callback, name, value);
        }
    }

    /// Like [`Listeners::call`], but does nothing when the list is borrowed (for the panic hook).
    pub fn try_call(&self, name: &str, value: &JsValue) {
        let callbacks: Vec<Function> = match self.list.try_borrow() {
            Ok(list) => list
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, f)| f.clone())
                .collect(),
            Err(_) => return,
        };
        for callback in callbacks {
            self.call_one(&callback, name, value);
        }
    }

    /// Calls one callback, logging (not propagating) what it throws.
    pub fn call_one(&self, callback: &Function, name: &str, value: &JsValue) {
        if let Err(thrown) = callback.call1(&JsValue::UNDEFINED, value) {
            web_sys::console::error_2(
                &format!("fabstir-sdk: {} for {name} threw", self.label).into(),
                &thrown,
            );
        }
    }
}

/// The listeners of one SDK instance.
pub struct Emitter {
    listeners: Listeners,
    debug: bool,
}

impl Emitter {
    /// An emitter that also logs every event to the console when `debug` is set.
    pub fn new(debug: bool) -> Self {
        Emitter {
            listeners: Listeners::new("a listener"),
            debug,
        }
    }

    /// Adds `callback` for the event `name`; unknown names are an `INVALID_ARGUMENT` error.
    pub fn on(&self, name: &str, callback: Function) -> Result<(), SdkError> {
        self.listeners.add(known_name(name)?, callback);
        Ok(())
    }

    /// Removes `callback` from the event `name` (one registration of it).
    pub fn off(&self, name: &str, callback: &Function) -> Result<(), SdkError> {
        self.listeners.remove(known_name(name)?, callback);
        Ok(())
    }

    /// Whether a page callback (not just the debug console) listens to `name`.
    pub fn listens(&self, name: &str) -> bool {
        self.listeners.has(name)
    }

    /// Whether anyone listens to `name` (lets hot paths skip building the event).
    pub fn has_listeners(&self, name: &str) -> bool {
        self.debug || self.listeners.has(name)
    }

    /// Calls every listener of the event's name with the event as a plain object. A listener
    /// that throws is logged and does not stop the others. An event no one listens to (see
    /// [`Emitter::has_listeners`]) is not turned into a JavaScript object: that work and its
    /// code's first run were on the way of a page's first job.
    pub fn emit(&self, event: &SdkEvent) {
        let name = event.name();
        if !self.has_listeners(name) {
            return;
        }
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
        self.listeners.call(name, &value);
    }
}

impl Emitter {
    /// Tells `error:p2p` listeners of a panic (code `INTERNAL`), borrowing nothing that the
    /// panicking code may hold.
    pub fn emit_panic(&self, message: &str) {
        let event = SdkEvent::Error {
            code: "INTERNAL".into(),
            message: message.into(),
        };
        let serializer = serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true);
        if let Ok(value) = event.serialize(&serializer) {
            self.listeners.try_call(event.name(), &value);
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
