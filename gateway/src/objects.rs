//! Sealed packets outside the database: a content-addressed object store.
//!
//! A packet's sealed bytes are written to the store under the SHA-256 of the bytes before the
//! transaction that records the packet names them, so a committed row always points at an
//! object that is there; a commit that fails after the write leaves an object nothing names
//! (harmless: the same bytes sent again land on the same name). Every read checks the bytes
//! against their name, so a damaged or replaced object is refused, never matched or printed.
//!
//! The store is reached through the `object_store` crate: a local file system (`file://` URL or
//! a path), with `fsync` on every write so a power cut after the commit cannot lose the object
//! the commit names; or any S3-compatible bucket (`s3://bucket/prefix`), whose PUT answers only
//! once the object is stored, shared by every gateway process. The bytes are ciphertext sealed
//! to the data center: the store never sees personal data in the clear.

use crate::{GatewayError, Result};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where the objects are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectsAt {
    /// A directory of the local file system (or a network file system mounted there), named by
    /// an absolute path or a `file://` URL.
    Directory(PathBuf),
    /// An S3-compatible bucket, named by `s3://bucket` or `s3://bucket/prefix`.
    Bucket(Bucket),
}

/// An S3-compatible bucket. The endpoint, region and credentials come from the process's
/// environment as every S3 tool reads them (`AWS_ENDPOINT_URL`, `AWS_REGION`,
/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP` for a plain-HTTP endpoint
/// such as a test server), never from the command line, where any user could read them;
/// `options` (the `object_store` crate's `aws_*` names) override the environment.
#[derive(Clone, PartialEq, Eq)]
pub struct Bucket {
    /// `s3://bucket` or `s3://bucket/prefix`.
    pub url: String,
    /// Settings beside the environment's, such as `("aws_endpoint", "http://127.0.0.1:9000")`.
    pub options: Vec<(String, String)>,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Option values may be credentials: only their names are shown.
        let names: Vec<&str> = self.options.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Bucket")
            .field("url", &self.url)
            .field("options", &names)
            .finish()
    }
}

impl ObjectsAt {
    /// Parses `text`: `file:///srv/rekam/objects`, an absolute path, or `s3://bucket/prefix`.
    pub fn parse(text: &str) -> Result<ObjectsAt> {
        if text.starts_with("s3://") {
            return Ok(ObjectsAt::Bucket(Bucket {
                url: text.to_owned(),
                options: Vec::new(),
            }));
        }
        let path = text.strip_prefix("file://").unwrap_or(text);
        if path.starts_with('/') {
            return Ok(ObjectsAt::Directory(PathBuf::from(path)));
        }
        Err(GatewayError::Objects {
            code: "OBJECTS_UNSUPPORTED",
            message: format!(
                "object store {text:?}: give an absolute path, a file:// URL or an s3://bucket URL"
            ),
        })
    }
}

impl Bucket {
    /// The bucket's client. Retries are bounded so that a station's request fails in seconds,
    /// not minutes, when the store is down: the station retries on its own schedule.
    fn open(&self) -> Result<Arc<dyn ObjectStore>> {
        let unsupported = |message: String| GatewayError::Objects {
            code: "OBJECTS_UNSUPPORTED",
            message,
        };
        let mut builder = AmazonS3Builder::from_env()
            .with_url(&self.url)
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 3,
                retry_timeout: Duration::from_secs(10),
            })
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(60)),
            );
        for (name, value) in &self.options {
            let key: AmazonS3ConfigKey = name
                .parse()
                .map_err(|_| unsupported(format!("unknown S3 setting {name:?}")))?;
            builder = builder.with_config(key, value);
        }
        let store = builder
            .build()
            .map_err(|e| unsupported(format!("object store {}: {e}", self.url)))?;
        let prefix = self
            .url
            .strip_prefix("s3://")
            .and_then(|rest| rest.split_once('/'))
            .map(|(_, prefix)| prefix.trim_matches('/'))
            .unwrap_or("");
        Ok(if prefix.is_empty() {
            Arc::new(store)
        } else {
            Arc::new(PrefixStore::new(store, prefix))
        })
    }
}

/// The packet store.
pub struct Objects {
    store: Arc<dyn ObjectStore>,
    /// Runs the store's futures, so the gateway's blocking code can call it from any thread.
    runtime: Option<tokio::runtime::Runtime>,
    at: ObjectsAt,
}

impl std::fmt::Debug for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Objects").field("at", &self.at).finish()
    }
}

impl Drop for Objects {
    fn drop(&mut self) {
        // The gateway may be dropped inside an async task, where a runtime may not block.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// The name of `bytes` in the store: the hex SHA-256 of every byte.
pub fn address(bytes: &[u8]) -> String {
    hex::encode(rekam_packet::sha256(&[bytes]))
}

impl Objects {
    /// Opens the store at `at`, creating a directory that is not there. A bucket must exist:
    /// it is created where its access is decided, not by a gateway.
    pub fn open(at: &ObjectsAt) -> Result<Objects> {
        let store: Arc<dyn ObjectStore> = match at {
            ObjectsAt::Directory(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| GatewayError::io(dir, e))?;
                let store = LocalFileSystem::new_with_prefix(dir)
                    .map_err(|e| unreachable_store(dir, &e))?
                    .with_fsync(true);
                Arc::new(store)
            }
            ObjectsAt::Bucket(bucket) => bucket.open()?,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("rekam-objects")
            .enable_all()
            .build()
            .map_err(|e| GatewayError::Objects {
                code: "OBJECTS_UNAVAILABLE",
                message: format!("the object store's threads did not start: {e}"),
            })?;
        Ok(Objects {
            store,
            runtime: Some(runtime),
            at: at.clone(),
        })
    }

    /// Writes `bytes` (durably) and returns their address. Writing the same bytes again
    /// replaces the object atomically with the same content, which also repairs a damaged one.
    pub fn put(&self, bytes: &[u8]) -> Result<String> {
        let name = address(bytes);
        let path = location(&name);
        let payload = PutPayload::from(bytes.to_vec());
        let store = self.store.clone();
        self.run(async move { store.put(&path, payload).await.map(|_| ()) })
            .map_err(|e| self.failed("write", &name, &e))?;
        Ok(name)
    }

    /// The bytes at `name`, checked against it.
    pub fn get(&self, name: &str) -> Result<Vec<u8>> {
        let path = location(name);
        let store = self.store.clone();
        let bytes = self
            .run(async move { store.get(&path).await?.bytes().await })
            .map_err(|e| self.failed("read", name, &e))?;
        if address(&bytes) != name {
            return Err(GatewayError::Objects {
                code: "OBJECT_DAMAGED",
                message: format!(
                    "packet object {name} does not hash to its name: the copy is damaged; the station's resend replaces it"
                ),
            });
        }
        Ok(bytes.to_vec())
    }

    fn run<T: Send + 'static>(
        &self,
        job: impl Future<Output = object_store::Result<T>> + Send + 'static,
    ) -> object_store::Result<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let Some(rt) = &self.runtime else {
            unreachable!("the runtime is taken only on drop");
        };
        rt.spawn(async move {
            let _ = tx.send(job.await);
        });
        rx.recv().unwrap_or_else(|_| {
            Err(object_store::Error::Generic {
                store: "rekam",
                source: "the object store's runtime stopped".into(),
            })
        })
    }

    fn failed(&self, what: &str, name: &str, e: &object_store::Error) -> GatewayError {
        tracing::error!(object = name, at = ?self.at, error = %e, "the packet store failed");
        let code = match e {
            object_store::Error::NotFound { .. } => "OBJECT_MISSING",
            _ => "OBJECTS_UNAVAILABLE",
        };
        GatewayError::Objects {
            code,
            message: format!("could not {what} packet object {name}: {}", reason(e)),
        }
    }
}

/// What [`crate::Gateway::check_objects`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectsCheck {
    /// Packets recorded.
    pub packets: usize,
    /// Packets whose object is not in the store: `(packet id, object)`.
    pub missing: Vec<(String, String)>,
    /// Packets whose object does not hash to its name, or the store could not read.
    pub damaged: Vec<(String, String)>,
}

impl ObjectsCheck {
    /// Every packet's bytes are there and whole.
    pub fn is_sound(&self) -> bool {
        self.missing.is_empty() && self.damaged.is_empty()
    }
}

impl crate::Gateway {
    /// Reads every recorded packet's object back and checks it against its name: what an
    /// operator runs after a disk failure or a restore (`rekam-gateway check`).
    pub fn check_objects(&self) -> Result<ObjectsCheck> {
        let rows: Vec<(String, String)> = self
            .db()
            .prepare("SELECT packet_id, object FROM packet ORDER BY receipt_no")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut check = ObjectsCheck {
            packets: rows.len(),
            ..ObjectsCheck::default()
        };
        for (packet_id, object) in rows {
            match self.inner.objects.get(&object) {
                Ok(_) => {}
                Err(e) if e.code() == "OBJECT_MISSING" => check.missing.push((packet_id, object)),
                Err(_) => check.damaged.push((packet_id, object)),
            }
        }
        Ok(check)
    }
}

/// Why, without the store's paths (the message may reach a station).
fn reason(e: &object_store::Error) -> &'static str {
    match e {
        object_store::Error::NotFound { .. } => "it is not in the store",
        _ => {
            "the store cannot be reached or written; check its disk or bucket, permissions and credentials"
        }
    }
}

/// `packets/ab/abcdef...`: 256 folders keep any one folder small.
fn location(name: &str) -> ObjectPath {
    let fan = name.get(..2).unwrap_or("00");
    ObjectPath::from(format!("packets/{fan}/{name}"))
}

fn unreachable_store(dir: &Path, e: &object_store::Error) -> GatewayError {
    GatewayError::Objects {
        code: "OBJECTS_UNAVAILABLE",
        message: format!("the object store in {}: {e}", dir.display()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn an_object_is_read_back_by_its_hash_and_a_damaged_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let objects = Objects::open(&ObjectsAt::Directory(dir.path().join("o"))).unwrap();
        let name = objects.put(b"sealed bytes").unwrap();
        assert_eq!(name, address(b"sealed bytes"));
        assert_eq!(objects.get(&name).unwrap(), b"sealed bytes");
        assert_eq!(
            objects.put(b"sealed bytes").unwrap(),
            name,
            "same bytes, same name"
        );

        let file = dir.path().join("o/packets").join(&name[..2]).join(&name);
        std::fs::write(&file, b"sealed bytez").unwrap();
        assert_eq!(objects.get(&name).unwrap_err().code(), "OBJECT_DAMAGED");
        objects.put(b"sealed bytes").unwrap();
        assert_eq!(objects.get(&name).unwrap(), b"sealed bytes", "repaired");
        std::fs::remove_file(&file).unwrap();
        assert_eq!(objects.get(&name).unwrap_err().code(), "OBJECT_MISSING");
        assert_eq!(
            ObjectsAt::parse("bucket").unwrap_err().code(),
            "OBJECTS_UNSUPPORTED"
        );
        let ObjectsAt::Bucket(bucket) = ObjectsAt::parse("s3://rekam/dc-1").unwrap() else {
            panic!("an s3 URL names a bucket");
        };
        assert_eq!(bucket.url, "s3://rekam/dc-1");
        assert_eq!(
            ObjectsAt::parse("file:///srv/o").unwrap(),
            ObjectsAt::Directory("/srv/o".into())
        );
    }
}
