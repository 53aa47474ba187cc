//! What the generated code hands to the runtime: a static description of each operation, the
//! request parameters in order, and the checks of declared constraints made before any I/O.

use std::borrow::Cow;

use super::error::InvalidInput;

/// A static description of one API operation, built by the generated code.
#[derive(Debug)]
pub struct Operation {
    /// The action name, e.g. `QuerySessionByClientId`.
    pub action: &'static str,
    /// The HTTP method the request is sent with (`POST` or `GET`).
    pub method: http::Method,
    /// Whether repeating the call is harmless (`false` for mutating operations). Only idempotent
    /// operations are retried once a request may have reached the server.
    pub idempotent: bool,
    /// Service error codes the spec marks as retryable for this operation.
    pub retryable_codes: &'static [&'static str],
    /// Whether an HTTP 200 answer may carry `{"Success": false, "Code", "Message"}` to report a
    /// failure.
    pub failure_in_body: bool,
    /// The documented per-account QPS limit, for the optional client-side rate limiter.
    pub qps_limit: Option<u32>,
}

/// Where a parameter travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// In the URL query string.
    Query,
    /// In an `application/x-www-form-urlencoded` body.
    Form,
}

/// The request parameters of one call, in the order the generated code pushed them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params {
    items: Vec<(Location, Cow<'static, str>, String)>,
}

impl Params {
    /// An empty parameter list.
    pub fn new() -> Self {
        Self { items: Vec::new() }
    }

    /// Adds one parameter. Lists are flattened by the caller (`ClientIdList.1`, `Tag.1.Key`).
    pub fn push(&mut self, location: Location, name: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        self.items.push((location, name.into(), value.into()));
    }

    /// All parameters with their location.
    pub fn iter(&self) -> impl Iterator<Item = (Location, &str, &str)> {
        self.items.iter().map(|(loc, name, value)| (*loc, name.as_ref(), value.as_str()))
    }

    /// The parameters at one location, as `(name, value)`.
    pub fn at(&self, location: Location) -> impl Iterator<Item = (&str, &str)> {
        self.iter().filter(move |(loc, _, _)| *loc == location).map(|(_, name, value)| (name, value))
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there is no parameter.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Checks that a list parameter has at most `max` items.
pub fn check_max_items(param: &'static str, len: usize, max: usize) -> Result<(), InvalidInput> {
    if len > max {
        return Err(InvalidInput::new(
            param,
            format!("at most {max} item{}", plural(max)),
            format!("{len} item{}", plural(len)),
        ));
    }
    Ok(())
}

/// Checks that a number lies within the declared bounds (both inclusive).
pub fn check_range(
    param: &'static str,
    value: i64,
    min: Option<i64>,
    max: Option<i64>,
) -> Result<(), InvalidInput> {
    let below = min.is_some_and(|min| value < min);
    let above = max.is_some_and(|max| value > max);
    if below || above {
        let expected = match (min, max) {
            (Some(min), Some(max)) => format!("a value from {min} to {max}"),
            (Some(min), None) => format!("a value of at least {min}"),
            (None, Some(max)) => format!("a value of at most {max}"),
            (None, None) => "any value".to_owned(),
        };
        return Err(InvalidInput::new(param, expected, value.to_string()));
    }
    Ok(())
}

/// Checks the length of a string, counted in characters (Unicode scalar values).
pub fn check_length(
    param: &'static str,
    value: &str,
    min: Option<usize>,
    max: Option<usize>,
) -> Result<(), InvalidInput> {
    let len = value.chars().count();
    let short = min.is_some_and(|min| len < min);
    let long = max.is_some_and(|max| len > max);
    if short || long {
        let expected = match (min, max) {
            (Some(min), Some(max)) if min == max => {
                format!("exactly {min} character{}", plural(min))
            }
            (Some(min), Some(max)) => format!("{min} to {max} characters"),
            (Some(min), None) => format!("at least {min} character{}", plural(min)),
            (None, Some(max)) => format!("at most {max} character{}", plural(max)),
            (None, None) => "any length".to_owned(),
        };
        return Err(InvalidInput::new(param, expected, format!("{len} character{}", plural(len))));
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_keep_order_and_location() {
        let mut p = Params::new();
        assert!(p.is_empty());
        p.push(Location::Query, "InstanceId", "i-1");
        p.push(Location::Form, String::from("ClientId"), "c");
        p.push(Location::Query, "Flag", true.to_string());
        assert_eq!(p.len(), 3);
        assert_eq!(p.at(Location::Query).collect::<Vec<_>>(), vec![("InstanceId", "i-1"), ("Flag", "true")]);
        assert_eq!(p.at(Location::Form).collect::<Vec<_>>(), vec![("ClientId", "c")]);
    }

    #[test]
    fn max_items() {
        assert!(check_max_items("ClientIdList", 10, 10).is_ok());
        let err = check_max_items("ClientIdList", 11, 10).unwrap_err();
        assert_eq!(err.param(), "ClientIdList");
        assert_eq!(err.expected(), "at most 10 items");
        assert_eq!(err.actual(), "11 items");
        assert_eq!(
            err.to_string(),
            "invalid parameter `ClientIdList`: expected at most 10 items, got 11 items"
        );
        assert_eq!(check_max_items("X", 2, 1).unwrap_err().expected(), "at most 1 item");
    }

    #[test]
    fn range() {
        assert!(check_range("PageSize", 1, Some(1), Some(100)).is_ok());
        assert!(check_range("PageSize", 100, Some(1), Some(100)).is_ok());
        assert!(check_range("PageSize", 5, None, None).is_ok());
        let err = check_range("PageSize", 101, Some(1), Some(100)).unwrap_err();
        assert_eq!(err.expected(), "a value from 1 to 100");
        assert_eq!(err.actual(), "101");
        let err = check_range("PageSize", 0, Some(1), None).unwrap_err();
        assert_eq!(err.expected(), "a value of at least 1");
        let err = check_range("PageSize", i64::MAX, None, Some(7)).unwrap_err();
        assert_eq!(err.expected(), "a value of at most 7");
    }

    #[test]
    fn length_counts_chars_not_bytes() {
        assert!(check_length("Name", "ééé", None, Some(3)).is_ok());
        let err = check_length("Name", "éééé", None, Some(3)).unwrap_err();
        assert_eq!(err.expected(), "at most 3 characters");
        assert_eq!(err.actual(), "4 characters");
        let err = check_length("Name", "", Some(1), Some(64)).unwrap_err();
        assert_eq!(err.expected(), "1 to 64 characters");
        assert_eq!(err.actual(), "0 characters");
        let err = check_length("Name", "ab", Some(1), Some(1)).unwrap_err();
        assert_eq!(err.expected(), "exactly 1 character");
        assert!(check_length("Name", "ab", Some(2), None).is_ok());
    }
}
