//! Deserializing a page's plain objects (the config, call options) strictly, with errors that
//! name the field by its path (`p2pConfig.dialTimeout`, `bootstrapNodes[1]`).
//!
//! The value comes as pretty JSON (one key or element per line: in the browser its own
//! `JSON.stringify(value, null, 2)` writes it) and is read with `serde_json`, whose errors carry a
//! line; the path is read off the lines up to it. This takes the place of `serde_path_to_error`,
//! whose wrapping deserializer doubled the deserializing code of every options type in the wasm,
//! and of `serde_wasm_bindgen` reading the object into a `serde_json::Value` first.

use serde::de::DeserializeOwned;

/// What was wrong, and where: the path (empty for the value itself) and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrictError {
    /// Dotted path of the field, e.g. `p2pConfig.bootstrapNodes[0]`; empty for the whole value.
    pub path: String,
    /// What was wrong with it.
    pub message: String,
}

/// Deserializes `value` into `T` (unknown fields are refused where `T` says so).
pub fn from_value<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, StrictError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| StrictError {
        path: String::new(),
        message: e.to_string(),
    })?;
    from_pretty(&text)
}

/// Deserializes pretty JSON `text` (one key or array element per line, as `serde_json`'s pretty
/// output and the browser's `JSON.stringify(value, null, 2)` write it) into `T`.
pub fn from_pretty<T: DeserializeOwned>(text: &str) -> Result<T, StrictError> {
    serde_json::from_slice(text.as_bytes()).map_err(|e| {
        let line = e.line();
        let message = e.to_string();
        // serde_json appends " at line L column C"; the path says where instead.
        let position = format!(" at line {line} column {}", e.column());
        let message = message
            .strip_suffix(position.as_str())
            .map_or(message.clone(), str::to_string);
        StrictError {
            path: path_at(text, line),
            message,
        }
    })
}

/// One level of nesting while reading the pretty text.
enum Level {
    Object(Option<String>),
    Array(Option<usize>),
}

/// The path of what line `line` (1-based) of `pretty` (serde_json's pretty output) holds: the key
/// or element on it, or the object or array it closes.
pub fn path_at(pretty: &str, line: usize) -> String {
    let mut stack: Vec<Level> = Vec::new();
    let mut at_line = String::new();
    for (n, raw) in pretty.lines().enumerate().take(line.max(1)) {
        let text = raw.trim().trim_end_matches(',');
        let last = n + 1 == line.max(1);
        if text == "}" || text == "]" {
            if last {
                at_line = render(&stack);
            }
            stack.pop();
            continue;
        }
        // The key (in an object) or next index (in an array) this line is at.
        let rest = match stack.last_mut() {
            Some(Level::Object(current)) => {
                let key = parse_key(text);
                *current = key.as_ref().map(|(k, _)| k.clone());
                key.map_or(text, |(_, rest)| rest)
            }
            Some(Level::Array(current)) => {
                *current = Some(current.map_or(0, |i| i + 1));
                text
            }
            None => text,
        };
        if last {
            at_line = render(&stack);
        }
        match rest {
            "{" => stack.push(Level::Object(None)),
            "[" => stack.push(Level::Array(None)),
            _ => {}
        }
    }
    at_line
}

/// `"key": rest` → the key (as written: escapes, which no option name has, stay) and the rest.
fn parse_key(text: &str) -> Option<(String, &str)> {
    let body = text.strip_prefix('"')?;
    let mut escaped = false;
    let end = body.char_indices().find_map(|(i, c)| {
        let closes = c == '"' && !escaped;
        escaped = c == '\\' && !escaped;
        closes.then_some(i)
    })?;
    let rest = body.get(end + 1..)?.trim_start().strip_prefix(':')?;
    Some((body[..end].to_string(), rest.trim()))
}

fn render(stack: &[Level]) -> String {
    let mut path = String::new();
    for level in stack {
        match level {
            Level::Object(Some(key)) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Level::Array(Some(i)) => path.push_str(&format!("[{i}]")),
            _ => {}
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Outer {
        p2p_config: Inner,
        #[serde(default)]
        list: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Inner {
        bootstrap_nodes: Vec<String>,
        #[serde(default)]
        dial_timeout: u64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        id: String,
    }

    fn error(value: serde_json::Value) -> StrictError {
        from_value::<Outer>(&value).unwrap_err()
    }

    #[test]
    fn errors_name_the_field_by_its_path() {
        use serde_json::json;
        let e = error(json!({ "p2pConfig": { "bootstrapNodes": [], "dialTimeout": "x" } }));
        assert_eq!(e.path, "p2pConfig.dialTimeout");
        assert!(e.message.contains("invalid type"), "{}", e.message);
        assert!(!e.message.contains("at line"), "{}", e.message);
        let e = error(json!({ "p2pConfig": { "bootstrapNodes": ["a", 1] } }));
        assert_eq!(e.path, "p2pConfig.bootstrapNodes[1]");
        let e = error(json!({ "p2pConfig": { "bootstrapNodes": [], "dialTimout": 1 } }));
        assert_eq!(e.path, "p2pConfig.dialTimout");
        assert!(
            e.message.contains("unknown field `dialTimout`"),
            "{}",
            e.message
        );
        let e = error(json!({ "p2pConfig": {} }));
        assert_eq!(e.path, "p2pConfig");
        assert!(e.message.contains("missing field `bootstrapNodes`"));
        let e = error(
            json!({ "p2pConfig": { "bootstrapNodes": [] }, "list": [{ "id": "a" }, { "id": 2 }] }),
        );
        assert_eq!(e.path, "list[1].id");
        let e = error(json!({ "p2pConfig": { "bootstrapNodes": [] }, "extra": true }));
        assert_eq!(e.path, "extra");
        let e = error(json!({}));
        assert_eq!(e.path, "");
        let e = error(
            json!({ "p2pConfig": { "bootstrapNodes": [], "dialTimeout": 1 }, "odd \"key\"": 1 }),
        );
        assert_eq!(e.path, r#"odd \"key\""#, "escapes stay as written");
    }
}
