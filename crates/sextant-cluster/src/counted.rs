//! Every request a client built here sends to an API server is counted:
//! `sextant_kube_requests_total{verb, code}` (see sextant-metrics), where
//! `code` is the HTTP status, or `error` when no answer came. A watch is
//! counted when its response starts.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use kube::client::ClientBuilder;
use tower::{Layer, Service};

/// A kube client for `config` whose requests are counted.
pub(crate) fn client(config: kube::Config) -> Result<kube::Client, kube::Error> {
    Ok(ClientBuilder::try_from(config)?
        .with_layer(&CountLayer)
        .build())
}

#[derive(Clone, Copy)]
struct CountLayer;

impl<S> Layer<S> for CountLayer {
    type Service = Counted<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Counted(inner)
    }
}

#[derive(Clone)]
struct Counted<S>(S);

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for Counted<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<ReqBody>) -> Self::Future {
        let verb = req.method().as_str().to_owned();
        let answer = self.0.call(req);
        Box::pin(async move {
            let result = answer.await;
            let code = match &result {
                Ok(response) => response.status().as_u16().to_string(),
                Err(_) => "error".to_owned(),
            };
            metrics::counter!("sextant_kube_requests_total", "verb" => verb, "code" => code)
                .increment(1);
            result
        })
    }
}
