//! The parameters of a request (query and form body merged) and the typed reads the generated
//! parsers make of them.

use super::{ApiError, Checks, Codes, Wire};
use std::collections::BTreeMap;

/// Most parameters one request may carry; more is answered `InvalidParameter`.
pub const MAX_PARAMS: usize = 4096;

/// The request's parameters by wire name; the first of duplicates counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    map: BTreeMap<String, String>,
}

impl Params {
    /// From decoded `(name, value)` pairs, the first of equal names kept.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut map = BTreeMap::new();
        for (k, v) in pairs {
            map.entry(k).or_insert(v);
        }
        Self { map }
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    /// How many distinct parameters.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Every `(name, value)`, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The 1-based indexes `N` present as `<name>.N` (`member`: `false`) or `<name>.N.<member>`
    /// (`true`), ascending.
    fn indexes(&self, name: &str, member: bool) -> Vec<u64> {
        let prefix = format!("{name}.");
        let mut out: Vec<u64> = self
            .map
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter_map(|(k, _)| {
                let rest = &k[prefix.len()..];
                let (n, tail) = match rest.split_once('.') {
                    Some((n, tail)) => (n, Some(tail)),
                    None => (rest, None),
                };
                if tail.is_some() != member || n.is_empty() || n.starts_with('0') {
                    return None;
                }
                n.parse::<u64>().ok()
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Typed reads of the parameters, answering failures with the operation's codes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    params: &'a Params,
    codes: &'a Codes,
    prefix: String,
}

impl<'a> Reader<'a> {
    /// Reads `params` for an operation answering with `codes`.
    pub fn new(params: &'a Params, codes: &'a Codes) -> Self {
        Self { params, codes, prefix: String::new() }
    }

    fn name(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn parse<T: Wire>(&self, name: &str, raw: &str, checks: &Checks) -> Result<T, ApiError> {
        let value = T::from_wire(raw).ok_or_else(|| {
            self.codes.reject(name, false, &format!("\"{}\" is not a value of its type", excerpt(raw)))
        })?;
        match value.violates(checks) {
            Some(why) => Err(self.codes.reject(name, false, &why)),
            None => Ok(value),
        }
    }

    /// A parameter that must be present.
    pub fn required<T: Wire>(&self, name: &str, checks: &Checks) -> Result<T, ApiError> {
        let full = self.name(name);
        match self.params.get(&full) {
            Some(raw) => self.parse(&full, raw, checks),
            None => Err(self.codes.reject(&full, true, "")),
        }
    }

    /// A parameter that may be absent.
    pub fn optional<T: Wire>(&self, name: &str, checks: &Checks) -> Result<Option<T>, ApiError> {
        let full = self.name(name);
        match self.params.get(&full) {
            Some(raw) => self.parse(&full, raw, checks).map(Some),
            None => Ok(None),
        }
    }

    fn check_count(&self, name: &str, required: bool, n: usize, checks: &Checks) -> Result<(), ApiError> {
        if required && n == 0 {
            return Err(self.codes.reject(name, true, ""));
        }
        match checks.max_items {
            Some(max) if n as u64 > max => {
                Err(self.codes.reject(name, false, &format!("more than {max} elements")))
            }
            _ => Ok(()),
        }
    }

    /// A flattened list `<name>.1`, `<name>.2`, ... in index order.
    pub fn list<T: Wire>(&self, name: &str, required: bool, checks: &Checks) -> Result<Vec<T>, ApiError> {
        let full = self.name(name);
        let indexes = self.params.indexes(&full, false);
        self.check_count(&full, required, indexes.len(), checks)?;
        indexes
            .into_iter()
            .map(|i| {
                let key = format!("{full}.{i}");
                let raw = self.params.get(&key).unwrap_or_default();
                self.parse(&key, raw, &Checks::NONE)
            })
            .collect()
    }

    /// A flattened list of structures `<name>.1.<member>`, ... in index order; `element` reads
    /// one element through a reader scoped to `<name>.N.`.
    pub fn struct_list<T>(
        &self,
        name: &str,
        required: bool,
        checks: &Checks,
        element: impl Fn(&Reader<'a>) -> Result<T, ApiError>,
    ) -> Result<Vec<T>, ApiError> {
        let full = self.name(name);
        let indexes = self.params.indexes(&full, true);
        self.check_count(&full, required, indexes.len(), checks)?;
        indexes
            .into_iter()
            .map(|i| {
                let scoped =
                    Reader { params: self.params, codes: self.codes, prefix: format!("{full}.{i}.") };
                element(&scoped)
            })
            .collect()
    }
}

/// The start of a value for a message, at most 64 characters.
fn excerpt(s: &str) -> String {
    let mut out: String = s.chars().take(64).collect();
    if out.len() < s.len() {
        out.push_str("...");
    }
    out
}

/// Decodes an `application/x-www-form-urlencoded` string (`+` is a space); `Err` names the first
/// pair that is not UTF-8 once decoded.
pub fn decode_urlencoded(raw: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for pair in raw.split(|b| *b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (k, v) = match pair.iter().position(|b| *b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        let decode = |s: &[u8]| -> Result<String, String> {
            let plus: Vec<u8> = s.iter().map(|b| if *b == b'+' { b' ' } else { *b }).collect();
            let bytes: Vec<u8> = percent_encoding::percent_decode(&plus).collect();
            String::from_utf8(bytes).map_err(|_| "a parameter is not valid UTF-8 once decoded".to_owned())
        };
        out.push((decode(k)?, decode(v)?));
        if out.len() > MAX_PARAMS {
            return Err(format!("more than {MAX_PARAMS} parameters"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODES: Codes = Codes { templated: Some(("InvalidParameter.", 400)), fixed: None };

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
    }

    #[test]
    fn lists_come_back_in_index_order_and_gaps_close() {
        let p = params(&[("L.10", "c"), ("L.2", "b"), ("L.1", "a"), ("L.x", "?"), ("L.01", "?")]);
        let r = Reader::new(&p, &CODES);
        assert_eq!(r.list::<String>("L", false, &Checks::NONE).unwrap(), ["a", "b", "c"]);
        let too_many = Checks { max_items: Some(2), ..Checks::NONE };
        assert_eq!(r.list::<String>("L", false, &too_many).unwrap_err().code, "InvalidParameter.L");
    }

    #[test]
    fn missing_and_bad_values_use_the_operation_codes() {
        let p = params(&[("Size", "abc"), ("N", "200")]);
        let r = Reader::new(&p, &CODES);
        assert_eq!(r.required::<i32>("Size", &Checks::NONE).unwrap_err().code, "InvalidParameter.Size");
        assert_eq!(r.required::<String>("Gone", &Checks::NONE).unwrap_err().code, "InvalidParameter.Gone");
        let bounded = Checks { maximum: Some(100), ..Checks::NONE };
        assert_eq!(r.required::<i32>("N", &bounded).unwrap_err().status, 400);
        let gateway = Codes { templated: None, fixed: None };
        let r = Reader::new(&p, &gateway);
        assert_eq!(r.required::<String>("Gone", &Checks::NONE).unwrap_err().code, "MissingParameter");
        assert_eq!(r.required::<i32>("Size", &Checks::NONE).unwrap_err().code, "InvalidParameter");
    }

    #[test]
    fn first_duplicate_wins_and_encodings_decode() {
        let pairs = decode_urlencoded(b"A=1&A=2&B=x+y%2Bz&C&=e").unwrap();
        let p = Params::from_pairs(pairs);
        assert_eq!(p.get("A"), Some("1"));
        assert_eq!(p.get("B"), Some("x y+z"));
        assert_eq!(p.get("C"), Some(""));
        assert!(decode_urlencoded(b"A=%FF").is_err());
        assert!(decode_urlencoded("A=1&".repeat(MAX_PARAMS + 1).as_bytes()).is_err());
    }
}
