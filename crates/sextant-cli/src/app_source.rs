//! From an Application to what rendering needs: the render options its
//! source sets and its ignoreDifferences as engine rules. The controller
//! owns both (`sextant_controller::source`); `sextant preview` and
//! `sextant app diff` use them so every path renders an app the same way.

pub use sextant_controller::source::{ignore_rules, render_options};
