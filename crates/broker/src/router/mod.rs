//! Routing: which sessions a message goes to.

mod retain;
mod trie;

pub use retain::RetainedStore;
pub use trie::{Subscriber, SubscriptionTree};
