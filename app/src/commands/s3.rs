//! The S3 client of backup destinations (`object_store`'s, for any S3-compatible server).
//! Each connection is made for one piece of work (a test, an upload, a download, a prune)
//! to the address [`checked_address`] answered just before — the client's only name is
//! pinned to it, with no proxy and no redirects — so a name that resolves to an internal
//! address is refused unless the instance owner allowed private targets, and cannot be
//! switched to one between the check and the requests (no DNS-rebinding window).

use super::outbound::{checked_address, TargetError};
use crate::domain::backup_destination::{object_key, ValidDestination};
use futures::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::client::{HttpClient, HttpConnector};
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, RetryConfig};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// Why a destination could not be used.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    /// Its endpoint is (or resolves to) an internal address and private targets are off.
    #[error("{0}")]
    Refused(String),
    /// Anything else: the server's answer, the network, the local file.
    #[error("{0}")]
    Failed(String),
}

impl From<TargetError> for S3Error {
    fn from(e: TargetError) -> Self {
        match e {
            TargetError::Refused(why) => S3Error::Refused(why),
            other => S3Error::Failed(other.to_string()),
        }
    }
}

fn failed(what: &str) -> impl Fn(object_store::Error) -> S3Error + '_ {
    move |e| S3Error::Failed(format!("{what}: {}", short(&e)))
}

/// The first lines of an error (object_store's carry the whole request).
fn short(e: &dyn std::fmt::Display) -> String {
    let text = e.to_string();
    let text: String = text.chars().take(400).collect();
    text.replace('\n', " ")
}

/// A connection to one bucket (and prefix), pinned to one checked address.
pub struct Bucket {
    store: Arc<AmazonS3>,
    prefix: String,
    /// `s3://bucket` for messages.
    name: String,
}

/// The reqwest client object_store gets: pinned to the checked address.
#[derive(Debug)]
struct Pinned(reqwest::Client);

impl HttpConnector for Pinned {
    fn connect(&self, _: &ClientOptions) -> object_store::Result<HttpClient> {
        Ok(HttpClient::new(self.0.clone()))
    }
}

impl Bucket {
    /// Resolves and checks the destination's host now, and opens a client bound to that
    /// address; `secret` is the opened secret access key.
    pub async fn connect(
        d: &ValidDestination,
        secret: &str,
        allow_private: bool,
    ) -> Result<Bucket, S3Error> {
        let target = d.target();
        let addr = checked_address(&target.host, target.port, allow_private).await?;
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .resolve(&target.host, addr)
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(120))
            .user_agent(concat!("Berth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| S3Error::Failed(e.to_string()))?;
        let store = AmazonS3Builder::new()
            .with_endpoint(&target.endpoint)
            .with_region(&d.region)
            .with_bucket_name(&d.bucket)
            .with_access_key_id(&d.access_key_id)
            .with_secret_access_key(secret)
            .with_virtual_hosted_style_request(!d.path_style)
            .with_allow_http(true)
            .with_retry(RetryConfig {
                max_retries: 2,
                retry_timeout: Duration::from_secs(30),
                ..Default::default()
            })
            .with_http_connector(Pinned(client))
            .build()
            .map_err(failed("the S3 client"))?;
        Ok(Bucket {
            store: Arc::new(store),
            prefix: d.prefix.clone(),
            name: format!("s3://{}", d.bucket),
        })
    }

    /// The object key `file` gets here.
    pub fn key(&self, file: &str) -> String {
        object_key(&self.prefix, file)
    }

    /// `s3://bucket/key`.
    pub fn url(&self, key: &str) -> String {
        format!("{}/{key}", self.name)
    }

    fn path(key: &str) -> Result<ObjectPath, S3Error> {
        ObjectPath::parse(key).map_err(|e| S3Error::Failed(format!("bad object key {key}: {e}")))
    }

    /// Writes a small object and removes it again: the endpoint answers, the keys are
    /// right and may write and delete under the prefix.
    pub async fn probe(&self) -> Result<(), S3Error> {
        let key = self.key(".berth-connection-test");
        let path = Self::path(&key)?;
        self.store
            .put(&path, b"berth".to_vec().into())
            .await
            .map_err(failed(&format!("writing {}", self.url(&key))))?;
        self.store
            .delete(&path)
            .await
            .map_err(failed(&format!("removing {}", self.url(&key))))
    }

    /// Uploads the local file `from` as `key` (multipart for large files).
    pub async fn upload(&self, from: &std::path::Path, key: &str) -> Result<(), S3Error> {
        let path = Self::path(key)?;
        let mut file = tokio::fs::File::open(from)
            .await
            .map_err(|e| S3Error::Failed(format!("cannot read {}: {e}", from.display())))?;
        let store: Arc<dyn ObjectStore> = self.store.clone();
        let mut out = object_store::buffered::BufWriter::new(store, path);
        let failed = |e: std::io::Error| {
            S3Error::Failed(format!("uploading {}: {}", self.url(key), short(&e)))
        };
        if let Err(e) = tokio::io::copy(&mut file, &mut out).await {
            // Abandons a multipart upload begun (never after a shutdown: it panics then).
            let _ = out.abort().await;
            return Err(failed(e));
        }
        out.shutdown().await.map_err(failed)
    }

    /// Downloads `key` into the local file `to` (through a `.partial` name until whole).
    pub async fn download(&self, key: &str, to: &std::path::Path) -> Result<(), S3Error> {
        let path = Self::path(key)?;
        let what = format!("downloading {}", self.url(key));
        let got = self.store.get(&path).await.map_err(failed(&what))?;
        let partial = to.with_extension("partial");
        let io = |e: std::io::Error| S3Error::Failed(format!("{what}: {e}"));
        let mut file = tokio::fs::File::create(&partial).await.map_err(io)?;
        let mut stream = got.into_stream();
        let result = async {
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(failed(&what))?;
                file.write_all(&chunk).await.map_err(io)?;
            }
            file.flush().await.map_err(io)?;
            file.sync_all().await.map_err(io)?;
            tokio::fs::rename(&partial, to).await.map_err(io)
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&partial).await;
        }
        result
    }

    /// Whether `key` exists.
    pub async fn exists(&self, key: &str) -> Result<bool, S3Error> {
        match self.store.head(&Self::path(key)?).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(failed(&format!("reading {}", self.url(key)))(e)),
        }
    }

    /// Removes `key` (gone already: fine).
    pub async fn delete(&self, key: &str) -> Result<(), S3Error> {
        match self.store.delete(&Self::path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(failed(&format!("removing {}", self.url(key)))(e)),
        }
    }
}
