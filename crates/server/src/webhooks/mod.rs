//! Webhooks: the settings the door and (later) the delivery worker share.

/// How this hub treats webhook targets (config `webhooks_*`).
#[derive(Debug, Clone, Default)]
pub struct WebhookSettings {
    /// Accept `http` targets and targets on loopback, private and link-local addresses
    /// (`webhooks_allow_private`, for development and tests only).
    pub allow_private: bool,
}
