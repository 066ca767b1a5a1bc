//! The smallest useful lambda_http function: the reference for the cold-start ratio in
//! BENCHMARKS.md (`make bench`).
//!
//! Same runtime flavour as the real function (`current_thread`), same lambda_http features,
//! built with the same profile; it answers every Function URL request `200 hello`.
//! No logging, no configuration, no HTTP client: what is left is exec, the Tokio runtime,
//! the Lambda runtime client and lambda_http's event (de)serialisation.

use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_request: Request| async {
        Ok::<_, Error>(
            Response::builder()
                .status(200)
                .header("content-type", "text/plain")
                .body(Body::Text("hello".to_owned()))
                .unwrap_or_else(|_| Response::new(Body::Empty)),
        )
    }))
    .await
}
