//! Sync planning, pure: how each object takes part in a sync (its marks:
//! hooks, waves, options), the order kinds go in, and the plan of a whole
//! sync (stages, waves, prunes, what is skipped and why). The controller
//! executes a plan; nothing here touches a cluster.

pub mod marks;
pub mod options;
pub mod order;
pub mod plan;
pub mod progress;

pub use marks::{MarkError, Marks, marks_of};
pub use options::{OptionError, Propagation, SyncOption, SyncOptions};
pub use plan::{
    Action, Desired, Extraneous, Plan, Request, Selector, SkipReason, Skipped, Stage, Step, Task,
    plan,
};
pub use progress::{Next, TaskState, next};
