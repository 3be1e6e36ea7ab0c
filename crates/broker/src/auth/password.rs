//! The password file (`password_file`).
//!
//! One user a line, `NAME:HASH`; blank lines and lines starting with `#`
//! are skipped. The name runs to the first `:` (so names cannot hold one).
//! A user has one line, in one of two forms:
//!
//! ```text
//! # Argon2 PHC string (argon2id, argon2i or argon2d), salted:
//! alice:$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH
//! # SCRAM-SHA-256 credentials (RFC 5802 section 3), base64 with padding:
//! bob:scram-sha-256:4096:SALT_B64:STORED_KEY_B64:SERVER_KEY_B64
//! ```
//!
//! `wasmqtt-broker --hash-password NAME [--scram]` reads a password from
//! standard input and prints such a line. Both forms check a plain CONNECT
//! password (the SCRAM form by recomputing the SaltedPassword); only the
//! SCRAM form can serve enhanced authentication with method
//! `SCRAM-SHA-256`. A malformed file stops the broker at start with an error
//! naming the line.
//!
//! CONNECT outcomes: no user name → allowed if `allow_anonymous`, else 0x87
//! (3.1.1: return code 5); a user name with a password file → the password
//! must check out, else 0x86 (3.1.1: 4); a user name without a password file
//! → allowed if `allow_anonymous`, else 0x86. Checks that hash go through
//! the login gate first (see [`super::gate`]): 0x89 when it is full, 0x9F
//! while the address backs off (3.1.1: 3 for both).

use std::collections::HashMap;
use std::sync::Mutex;

use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use super::content_lines;
use crate::scram::{self, ScramCredential};

/// One user's line in the password file.
#[derive(Clone)]
pub(super) enum Credential {
    Argon2(Argon2Hash),
    Scram(ScramCredential),
}

impl Credential {
    /// Checks a plain password: one Argon2 hash or one PBKDF2 derivation.
    pub(super) fn verify(&self, password: &[u8], memory: &BlockPool) -> bool {
        match self {
            Self::Argon2(hash) => hash.verify(password, memory),
            Self::Scram(c) => c.verify_password(password),
        }
    }
}

/// An Argon2 PHC string, parsed once when the file is loaded.
#[derive(Clone)]
pub(super) struct Argon2Hash {
    algorithm: Algorithm,
    version: Version,
    params: Params,
    salt: Vec<u8>,
    hash: Output,
}

impl Argon2Hash {
    fn parse(phc: &str) -> Result<Self, String> {
        let hash = PasswordHash::new(phc).map_err(|e| format!("not a PHC string: {e}"))?;
        let algorithm = Algorithm::try_from(hash.algorithm)
            .map_err(|_| format!("unknown algorithm {}", hash.algorithm))?;
        let version = match hash.version {
            Some(v) => Version::try_from(v).map_err(|e| format!("bad Argon2 version: {e}"))?,
            None => Version::default(),
        };
        let params = Params::try_from(&hash).map_err(|e| format!("bad Argon2 parameters: {e}"))?;
        let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
            return Err("PHC string without salt or hash".into());
        };
        let mut buf = [0u8; 64];
        let salt = salt
            .decode_b64(&mut buf)
            .map_err(|e| format!("bad salt: {e}"))?
            .to_vec();
        Ok(Self {
            algorithm,
            version,
            params,
            salt,
            hash: expected,
        })
    }

    /// Recomputes the hash in memory borrowed from `memory` and compares it
    /// in constant time.
    fn verify(&self, password: &[u8], memory: &BlockPool) -> bool {
        let argon2 = Argon2::new(self.algorithm, self.version, self.params.clone());
        let mut blocks = memory.take(self.params.block_count());
        let computed = Output::init_with(self.hash.len(), |out| {
            argon2
                .hash_password_into_with_memory(password, &self.salt, out, &mut blocks)
                .map_err(|_| argon2::password_hash::Error::Crypto)
        });
        memory.give_back(blocks);
        computed.is_ok_and(|c| c == self.hash)
    }
}

/// Argon2 working memory (19 MiB per check with the default parameters),
/// kept for reuse instead of being allocated for every check: allocations
/// that size, made from many threads, stay resident in the allocator's
/// per-thread arenas. The pool keeps at most `keep` buffers, one per check
/// allowed to run at once, so what it holds is bounded.
#[derive(Debug, Default)]
pub(super) struct BlockPool {
    buffers: Mutex<Vec<Vec<Block>>>,
    keep: usize,
}

impl BlockPool {
    pub(super) fn new(keep: usize) -> Self {
        Self {
            buffers: Mutex::new(Vec::new()),
            keep,
        }
    }

    fn take(&self, blocks: usize) -> Vec<Block> {
        let reused = self.lock().pop();
        let mut buffer = reused.unwrap_or_default();
        buffer.resize(blocks, Block::default());
        buffer
    }

    fn give_back(&self, buffer: Vec<Block>) {
        let mut buffers = self.lock();
        if buffers.len() < self.keep {
            buffers.push(buffer);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<Block>>> {
        // A panic while it was held leaves a list of buffers: still usable.
        self.buffers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Argon2(_) => "Argon2(..)",
            Self::Scram(_) => "Scram(..)",
        })
    }
}

/// Which kind of line [`password_line`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    /// `NAME:$argon2id$...` with the argon2 crate's default parameters.
    Argon2,
    /// `NAME:scram-sha-256:...` with this many PBKDF2 iterations.
    Scram {
        /// PBKDF2 iterations (RFC 7677 asks for at least 4096).
        iterations: u32,
    },
}

/// Makes a password-file line for `username`, with a fresh random salt.
///
/// # Errors
///
/// The user name cannot be written in the file (empty, holds `:` or a line
/// break, starts with `#` or blank space), the password is empty, or no
/// randomness or hash could be had.
pub fn password_line(username: &str, password: &[u8], kind: HashKind) -> Result<String, String> {
    if username.is_empty()
        || username.contains([':', '\n', '\r'])
        || username.starts_with('#')
        || username.trim() != username
    {
        return Err(format!(
            "user name {username:?} cannot be written in a password file"
        ));
    }
    if password.is_empty() {
        return Err("the password is empty".into());
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| e.to_string())?;
    let hash = match kind {
        HashKind::Argon2 => {
            let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
            Argon2::default()
                .hash_password(password, &salt)
                .map_err(|e| e.to_string())?
                .to_string()
        }
        HashKind::Scram { iterations } if iterations > 0 => {
            ScramCredential::derive(password, &salt, iterations).to_string()
        }
        HashKind::Scram { .. } => return Err("iterations must be positive".into()),
    };
    Ok(format!("{username}:{hash}"))
}

pub(super) fn parse_passwords(text: &str) -> Result<HashMap<String, Credential>, String> {
    let mut users = HashMap::new();
    for (n, line) in content_lines(text) {
        let at = |e: &str| format!("line {n}: {e}");
        let (name, hash) = line
            .split_once(':')
            .ok_or_else(|| at("expected NAME:HASH"))?;
        if name.is_empty() {
            return Err(at("empty user name"));
        }
        let credential = if hash.starts_with("$argon2") {
            Credential::Argon2(Argon2Hash::parse(hash).map_err(|e| at(&e))?)
        } else if hash.starts_with(scram::FILE_PREFIX) {
            Credential::Scram(ScramCredential::parse(hash).map_err(|e| at(&e))?)
        } else {
            return Err(at(
                "unknown password hash (expected $argon2id$... or scram-sha-256:...)",
            ));
        };
        if users.insert(name.to_owned(), credential).is_some() {
            return Err(at(&format!("user {name:?} appears twice")));
        }
    }
    Ok(users)
}
