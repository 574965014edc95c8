//! Conversations in the OpenAI chat shape: messages with roles, sampling options, and the usage
//! counts a finished job reports (see `docs/PROTOCOL.md`, "Conversations").

use serde::{Deserialize, Serialize};

/// The most messages one conversation may have.
pub const MAX_MESSAGES: usize = 256;
/// The most stop sequences one job may give.
pub const MAX_STOP_SEQUENCES: usize = 4;
/// The longest stop sequence, in bytes.
pub const MAX_STOP_LEN: usize = 256;

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions for the model.
    System,
    /// The person.
    User,
    /// The model; a last assistant message is a prefix the model continues.
    Assistant,
}

impl Role {
    /// The wire name, e.g. `user`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatMessage {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub content: String,
}

impl ChatMessage {
    /// A message of `role` saying `content`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        ChatMessage {
            role,
            content: content.into(),
        }
    }
}

/// Tokens a job read and generated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Usage {
    /// Tokens of the conversation the model read (with any continuation text).
    pub prompt_tokens: u64,
    /// Tokens generated.
    pub completion_tokens: u64,
    /// The backend did not report `prompt_tokens`, so the host counted them by the rule of
    /// [`estimate_prompt_tokens`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prompt_estimated: bool,
}

impl Usage {
    /// What the job costs at these prices: completion tokens × `price_per_token` plus prompt
    /// tokens × `price_per_prompt_token` (saturating; prices are in the smallest price unit).
    pub fn cost(&self, price_per_token: u64, price_per_prompt_token: u64) -> u64 {
        self.completion_tokens
            .saturating_mul(price_per_token)
            .saturating_add(self.prompt_tokens.saturating_mul(price_per_prompt_token))
    }
}

/// The prompt-token rule of hosts whose backend counts none (the `demo` backend, and an
/// `openai` server that reports no usage): one token per whitespace-separated word of every
/// message's content, plus 4 per message for its role and separators.
pub fn estimate_prompt_tokens(messages: &[ChatMessage]) -> u64 {
    messages
        .iter()
        .map(|m| 4 + m.content.split_whitespace().count() as u64)
        .sum()
}

/// Checks the conversation fields of a job request; the error names the field and value.
pub fn validate(
    messages: &[ChatMessage],
    stop: &[String],
    penalties: [(&str, Option<f32>); 2],
) -> Result<(), String> {
    if messages.len() > MAX_MESSAGES {
        return Err(format!(
            "messages must be at most {MAX_MESSAGES}, got {}",
            messages.len()
        ));
    }
    if !messages.is_empty() && !messages.iter().any(|m| m.role == Role::User) {
        return Err("messages must hold at least one user message".into());
    }
    if stop.len() > MAX_STOP_SEQUENCES {
        return Err(format!(
            "stop must be at most {MAX_STOP_SEQUENCES} sequences, got {}",
            stop.len()
        ));
    }
    for (i, s) in stop.iter().enumerate() {
        if s.is_empty() || s.len() > MAX_STOP_LEN {
            return Err(format!(
                "stop[{i}] must be 1 to {MAX_STOP_LEN} bytes, got {}",
                s.len()
            ));
        }
    }
    for (name, value) in penalties {
        if let Some(v) = value {
            if !(-2.0..=2.0).contains(&v) {
                return Err(format!(
                    "{name} must be -2 to 2, got {}",
                    crate::float_text(v)
                ));
            }
        }
    }
    Ok(())
}

/// The conversation a model continues after `continuation` (output produced elsewhere, on
/// failover): that text appended to a last assistant message, or added as one.
pub fn continued(mut messages: Vec<ChatMessage>, continuation: Option<&str>) -> Vec<ChatMessage> {
    if let Some(text) = continuation {
        match messages.last_mut() {
            Some(last) if last.role == Role::Assistant => last.content.push_str(text),
            _ => messages.push(ChatMessage::new(Role::Assistant, text)),
        }
    }
    messages
}

/// The text the `demo` backend keys its generator on: a lone user message is its content (as a
/// `prompt` is); any other conversation is each message as `role`, U+001F, content, U+001E.
pub fn demo_key(messages: &[ChatMessage]) -> String {
    match messages {
        [only] if only.role == Role::User => only.content.clone(),
        _ => messages
            .iter()
            .map(|m| format!("{}\u{1f}{}\u{1e}", m.role.as_str(), m.content))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(text: &str) -> ChatMessage {
        ChatMessage::new(Role::User, text)
    }

    #[test]
    fn conversations_are_checked() {
        let none = [("presencePenalty", None), ("frequencyPenalty", None)];
        assert!(validate(&[user("hi")], &[], none).is_ok());
        let only_system = [ChatMessage::new(Role::System, "x")];
        assert!(validate(&only_system, &[], none).is_err());
        let only_assistant = [ChatMessage::new(Role::Assistant, "x")];
        assert!(validate(&only_assistant, &[], none).is_err());
        let many = vec![user("x"); MAX_MESSAGES + 1];
        assert!(validate(&many, &[], none).unwrap_err().contains("257"));
        let stops: Vec<String> = (0..5).map(|i| i.to_string()).collect();
        assert!(validate(&[user("x")], &stops, none).is_err());
        assert!(validate(&[user("x")], &[String::new()], none)
            .unwrap_err()
            .starts_with("stop[0]"));
        let bad = [("presencePenalty", Some(2.5)), ("frequencyPenalty", None)];
        assert!(validate(&[user("x")], &[], bad)
            .unwrap_err()
            .starts_with("presencePenalty"));
        let nan = [
            ("presencePenalty", None),
            ("frequencyPenalty", Some(f32::NAN)),
        ];
        assert!(validate(&[user("x")], &[], nan).is_err());
    }

    #[test]
    fn usage_costs_and_estimates() {
        let u = Usage {
            prompt_tokens: 10,
            completion_tokens: 5,
            prompt_estimated: false,
        };
        assert_eq!(u.cost(3, 1), 25);
        assert_eq!(u.cost(u64::MAX, 1), u64::MAX);
        assert_eq!(estimate_prompt_tokens(&[user("a b  c")]), 7);
        assert_eq!(demo_key(&[user("p")]), "p");
        assert_ne!(
            demo_key(&[ChatMessage::new(Role::System, "p")]),
            demo_key(&[user("p")])
        );
    }
}
