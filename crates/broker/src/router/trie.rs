//! The subscription tree: one node per topic level, so routing a message
//! costs the depth of its topic, not the number of subscriptions.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use wasmqtt_codec::SubscriptionOptions;

/// One client's subscription at a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    /// The subscribing session's client id.
    pub client: Arc<str>,
    /// Subscription Options.
    pub options: SubscriptionOptions,
    /// Subscription Identifier, if one was given.
    pub subscription_id: Option<u32>,
}

/// A shared subscription group at one filter: members take turns.
#[derive(Debug, Default)]
struct Group {
    members: Vec<Subscriber>,
    next: usize,
}

#[derive(Debug, Default)]
struct Node {
    children: HashMap<Box<str>, Node>,
    subscribers: Vec<Subscriber>,
    groups: BTreeMap<Arc<str>, Group>,
}

impl Node {
    fn is_empty(&self) -> bool {
        self.children.is_empty() && self.subscribers.is_empty() && self.groups.is_empty()
    }

    fn collect(&mut self, out: &mut Vec<Subscriber>, online: &dyn Fn(&str) -> bool) {
        out.extend(self.subscribers.iter().cloned());
        for group in self.groups.values_mut() {
            if let Some(s) = group.pick(online) {
                out.push(s);
            }
        }
    }
}

impl Group {
    /// The next member in turn, preferring connected ones.
    fn pick(&mut self, online: &dyn Fn(&str) -> bool) -> Option<Subscriber> {
        let n = self.members.len();
        if n == 0 {
            return None;
        }
        let start = self.next % n;
        let chosen = (0..n)
            .map(|i| (start + i) % n)
            .find(|&i| self.members.get(i).is_some_and(|m| online(&m.client)))
            .unwrap_or(start);
        self.next = chosen + 1;
        self.members.get(chosen).cloned()
    }
}

/// Subscriptions by filter level.
#[derive(Debug, Default)]
pub struct SubscriptionTree {
    root: Node,
    count: usize,
}

impl SubscriptionTree {
    /// Number of subscriptions held.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no subscription is held.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Adds or replaces `subscriber`'s subscription to `filter` (in group `share`).
    /// Returns whether it already existed.
    pub fn insert(&mut self, filter: &str, share: Option<&str>, subscriber: Subscriber) -> bool {
        let mut node = &mut self.root;
        for level in filter.split('/') {
            node = node.children.entry(level.into()).or_default();
        }
        let list = match share {
            None => &mut node.subscribers,
            Some(g) => &mut node.groups.entry(Arc::from(g)).or_default().members,
        };
        match list.iter_mut().find(|s| s.client == subscriber.client) {
            Some(existing) => {
                *existing = subscriber;
                true
            }
            None => {
                list.push(subscriber);
                self.count += 1;
                false
            }
        }
    }

    /// Removes `client`'s subscription to `filter`; returns whether it existed.
    pub fn remove(&mut self, filter: &str, share: Option<&str>, client: &str) -> bool {
        let levels: Vec<&str> = filter.split('/').collect();
        let removed = remove_at(&mut self.root, &levels, share, client);
        if removed {
            self.count -= 1;
        }
        removed
    }

    /// The subscribers a message to `topic` goes to: every plain match, and
    /// one member of each matching shared group, taking turns.
    pub fn matches(&mut self, topic: &str, online: &dyn Fn(&str) -> bool) -> Vec<Subscriber> {
        let levels: Vec<&str> = topic.split('/').collect();
        let mut out = Vec::new();
        // [MQTT-4.7.2-1]: wildcards at the first level do not match '$' topics.
        let system = topic.starts_with('$');
        walk(&mut self.root, &levels, system, &mut out, online);
        out
    }
}

fn walk(
    node: &mut Node,
    levels: &[&str],
    skip_wildcards: bool,
    out: &mut Vec<Subscriber>,
    online: &dyn Fn(&str) -> bool,
) {
    let Some((level, rest)) = levels.split_first() else {
        node.collect(out, online);
        // "a/#" also matches "a" itself.
        if let Some(hash) = node.children.get_mut("#") {
            hash.collect(out, online);
        }
        return;
    };
    if let Some(child) = node.children.get_mut(*level) {
        walk(child, rest, false, out, online);
    }
    if skip_wildcards {
        return;
    }
    if let Some(plus) = node.children.get_mut("+") {
        walk(plus, rest, false, out, online);
    }
    if let Some(hash) = node.children.get_mut("#") {
        hash.collect(out, online);
    }
}

fn remove_at(node: &mut Node, levels: &[&str], share: Option<&str>, client: &str) -> bool {
    let Some((level, rest)) = levels.split_first() else {
        let before;
        let after;
        match share {
            None => {
                before = node.subscribers.len();
                node.subscribers.retain(|s| &*s.client != client);
                after = node.subscribers.len();
            }
            Some(g) => {
                let Some(group) = node.groups.get_mut(g) else {
                    return false;
                };
                before = group.members.len();
                group.members.retain(|s| &*s.client != client);
                after = group.members.len();
                if group.members.is_empty() {
                    node.groups.remove(g);
                }
            }
        }
        return after < before;
    };
    let Some(child) = node.children.get_mut(*level) else {
        return false;
    };
    let removed = remove_at(child, rest, share, client);
    if child.is_empty() {
        node.children.remove(*level);
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(client: &str) -> Subscriber {
        Subscriber {
            client: Arc::from(client),
            options: SubscriptionOptions::default(),
            subscription_id: None,
        }
    }

    fn clients(tree: &mut SubscriptionTree, topic: &str) -> Vec<String> {
        let mut v: Vec<String> = tree
            .matches(topic, &|_| true)
            .into_iter()
            .map(|s| s.client.to_string())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn wildcards_match_like_the_spec_examples() {
        let mut t = SubscriptionTree::default();
        for (i, f) in [
            "sport/tennis/player1/#",
            "sport/#",
            "#",
            "+/tennis/#",
            "sport/+",
            "/+",
            "+/+",
        ]
        .iter()
        .enumerate()
        {
            t.insert(f, None, sub(&format!("c{i}")));
        }
        assert_eq!(
            clients(&mut t, "sport/tennis/player1"),
            ["c0", "c1", "c2", "c3"]
        );
        assert_eq!(clients(&mut t, "sport"), ["c1", "c2"]);
        assert_eq!(clients(&mut t, "sport/"), ["c1", "c2", "c4", "c6"]);
        assert_eq!(clients(&mut t, "/finance"), ["c2", "c5", "c6"]);
    }

    #[test]
    fn dollar_topics_skip_leading_wildcards() {
        // [MQTT-4.7.2-1]
        let mut t = SubscriptionTree::default();
        t.insert("#", None, sub("all"));
        t.insert("+/monitor/Clients", None, sub("plus"));
        t.insert("$SYS/#", None, sub("sys"));
        t.insert("$SYS/monitor/+", None, sub("sys2"));
        assert_eq!(clients(&mut t, "$SYS/monitor/Clients"), ["sys", "sys2"]);
        assert_eq!(clients(&mut t, "a/monitor/Clients"), ["all", "plus"]);
    }

    #[test]
    fn shared_groups_take_turns_and_prefer_online_members() {
        let mut t = SubscriptionTree::default();
        t.insert("a/+", Some("g"), sub("x"));
        t.insert("a/+", Some("g"), sub("y"));
        t.insert("a/+", None, sub("plain"));
        let picks: Vec<String> = (0..4)
            .map(|_| {
                let m = t.matches("a/b", &|_| true);
                assert_eq!(m.len(), 2);
                m[1].client.to_string()
            })
            .collect();
        assert_eq!(picks, ["x", "y", "x", "y"]);
        let only_y = t.matches("a/b", &|c| c == "y");
        assert_eq!(&*only_y[1].client, "y");
    }

    #[test]
    fn insert_replaces_and_remove_prunes() {
        let mut t = SubscriptionTree::default();
        assert!(!t.insert("a/b/c", None, sub("c")));
        assert!(t.insert("a/b/c", None, sub("c")));
        assert_eq!(t.len(), 1);
        assert!(!t.remove("a/b", None, "c"));
        assert!(t.remove("a/b/c", None, "c"));
        assert!(t.is_empty());
        assert!(t.root.is_empty());
        t.insert("s", Some("g"), sub("c"));
        assert!(t.remove("s", Some("g"), "c"));
        assert!(t.root.is_empty());
    }
}
