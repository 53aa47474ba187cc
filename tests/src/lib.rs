//! Support code for the test suite.
