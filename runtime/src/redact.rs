//! `Debug` for values the spec marks sensitive: whether there is a value shows, the value not.

use std::fmt;

/// Wraps a field for `Debug`: prints `Some(***)` / `None` for options, `***` otherwise.
pub struct Redacted<'a, T: ?Sized>(pub &'a T);

/// What a sensitive value shows as.
pub trait Redact {
    /// Writes the redacted form.
    fn redact(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

impl<T> Redact for Option<T> {
    fn redact(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_some() { "Some(***)" } else { "None" })
    }
}

impl Redact for String {
    fn redact(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl<T: Redact + ?Sized> fmt::Debug for Redacted<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.redact(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_values_but_not_presence() {
        assert_eq!(format!("{:?}", Redacted(&Some("hunter2".to_owned()))), "Some(***)");
        assert_eq!(format!("{:?}", Redacted(&None::<String>)), "None");
        assert_eq!(format!("{:?}", Redacted(&"hunter2".to_owned())), "***");
    }
}
