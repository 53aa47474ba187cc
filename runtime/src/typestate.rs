//! Markers the generated builders use to check required parameters at compile time.
//!
//! A builder has one type parameter per required parameter. It starts as [`Unset`]; calling that
//! parameter's setter turns it into [`Set`]; `send()` exists only when every one is [`Set`].

/// Marks a required parameter that has been given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Set;

/// Marks a required parameter that has not been given yet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Unset;

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Set {}
}

/// Implemented only by [`Set`]: a builder's `send()` requires it of every required parameter.
///
/// ```compile_fail
/// use alibabacloud_runtime::{IsSet, Unset};
///
/// fn send<T: IsSet>() {}
/// send::<Unset>(); // error: a required parameter of this call is not set
/// ```
#[diagnostic::on_unimplemented(
    message = "a required parameter of this call is not set",
    label = "this required parameter is still `Unset`",
    note = "the builder's type parameters are named after the required parameters; each one still `Unset` needs its setter called before `send()`"
)]
pub trait IsSet: sealed::Sealed {}

impl IsSet for Set {}

#[cfg(test)]
mod tests {
    use super::*;

    fn requires_set<T: IsSet>() {}

    #[test]
    fn set_is_set() {
        requires_set::<Set>();
        assert_ne!(format!("{Set:?}"), format!("{Unset:?}"));
    }
}
