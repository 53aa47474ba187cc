//! MQTT topic filter matching, for permissions (tokens and custom authentication).

/// Whether the filter `pattern` (with `+` and `#`) matches the topic name `topic`.
pub fn matches(pattern: &str, topic: &str) -> bool {
    covers(pattern, topic)
}

/// Whether every topic matched by `filter` is also matched by `pattern`: a permission on
/// `pattern` allows subscribing to `filter`. For a plain topic name this is [`matches()`].
pub fn covers(pattern: &str, filter: &str) -> bool {
    let mut pattern_levels = pattern.split('/');
    let mut filter_levels = filter.split('/');
    loop {
        match (pattern_levels.next(), filter_levels.next()) {
            // `#` matches the rest, the parent level included (`a/#` matches `a`).
            (Some("#"), _) => return true,
            (Some("+"), Some(level)) => {
                if level == "#" {
                    return false;
                }
            }
            (Some(p), Some(f)) => {
                if p != f {
                    return false;
                }
            }
            (None, None) => return true,
            (Some(_), None) | (None, Some(_)) => return false,
        }
    }
}

/// Whether some topic name is matched by both filters: a `DENY` on `a` speaks about a
/// subscription to `b`.
pub fn overlaps(a: &str, b: &str) -> bool {
    let mut a_levels = a.split('/');
    let mut b_levels = b.split('/');
    loop {
        match (a_levels.next(), b_levels.next()) {
            (Some("#"), _) | (_, Some("#")) => return true,
            (None, None) => return true,
            (Some("+"), Some(_)) | (Some(_), Some("+")) => {}
            (Some(x), Some(y)) => {
                if x != y {
                    return false;
                }
            }
            (Some(_), None) | (None, Some(_)) => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_wildcards() {
        assert!(matches("a/b", "a/b"));
        assert!(!matches("a/b", "a/c"));
        assert!(!matches("a/b", "a/b/c"));
        assert!(matches("a/+", "a/b"));
        assert!(!matches("a/+", "a/b/c"));
        assert!(matches("a/#", "a/b/c"));
        assert!(matches("#", "x"));
        assert!(matches("a/#", "a"));
        assert!(matches("a/+/c", "a/b/c"));
    }

    #[test]
    fn covering_filters() {
        assert!(covers("a/#", "a/+"));
        assert!(covers("a/#", "a/b/#"));
        assert!(covers("a/+", "a/+"));
        assert!(!covers("a/+", "a/#"));
        assert!(!covers("a/b", "a/+"));
        assert!(!covers("a/+", "a/b/c"));
    }

    #[test]
    fn overlapping_filters() {
        assert!(overlaps("a/secret", "a/#"));
        assert!(overlaps("a/+", "+/b"));
        assert!(!overlaps("a/b", "a/c"));
        assert!(!overlaps("a/b", "a/b/c"));
        assert!(overlaps("a/#", "a"));
    }
}
