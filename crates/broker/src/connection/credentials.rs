//! CONNECT credentials: a plain User Name and Password, or the enhanced
//! authentication exchange CONNECT asks for (see `enhanced_auth.rs`).

use std::sync::Arc;

use tracing::debug;
use wasmqtt_codec::{Connect, ReasonCode};

use super::enhanced_auth::Refusal;
use super::Connection;

impl Connection {
    /// Checks CONNECT's credentials, first running the enhanced
    /// authentication exchange if CONNECT asks for one, by `deadline`. On
    /// success `connect.username` is the authenticated user.
    pub(super) async fn authenticate(
        &mut self,
        connect: &mut Connect,
        deadline: tokio::time::Instant,
    ) -> Result<(), Refusal> {
        match connect.properties.authentication_method.clone() {
            None => self.check_password(connect).await.map_err(Some),
            Some(method) => {
                self.enhanced_authentication(method, connect, deadline)
                    .await
            }
        }
    }

    /// Checks a plain User Name and Password. A check that hashes goes
    /// through the login gate (bounded concurrency, back-off for failing
    /// addresses) and runs on a blocking thread.
    async fn check_password(&self, connect: &Connect) -> Result<(), ReasonCode> {
        let access = &self.shared.access;
        let username = connect.username.as_deref();
        let result = if access.verifies_passwords(username) {
            let ip = self.peer.ip();
            let permit = access.logins().admit(ip).await.inspect_err(|code| {
                debug!(peer = %self.peer, user = ?username, ?code, "password check not admitted");
            })?;
            let shared = Arc::clone(&self.shared);
            let (username, password) = (connect.username.clone(), connect.password.clone());
            let result = tokio::task::spawn_blocking(move || {
                // Held until the hash is done, even if this connection is
                // dropped meanwhile, so the bound holds.
                let _permit = permit;
                shared
                    .access
                    .authenticate(username.as_deref(), password.as_deref())
            })
            .await
            .unwrap_or(Err(ReasonCode::ServerUnavailable));
            match result {
                Ok(()) => access.logins().record(ip, true),
                Err(ReasonCode::BadUserNameOrPassword) => access.logins().record(ip, false),
                Err(_) => {}
            }
            result
        } else {
            access.authenticate(username, connect.password.as_deref())
        };
        if let Err(code) = result {
            debug!(peer = %self.peer, user = ?username, ?code, "credentials refused");
        }
        result
    }
}
