//! The wasmtime engine shared by all rules: compilation, precompiled artifacts and the epoch
//! ticker that enforces evaluation deadlines.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, OptLevel};

use super::bindings;
use super::instance::HostState;
use super::RuleError;
use crate::store::{ArtifactCheck, Store};

/// How often the epoch advances; deadlines are whole multiples of it.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Compiles rules and runs the deadline ticker. Cheap to share behind an `Arc`.
pub struct RuleEngine {
    engine: Engine,
    linker: Linker<HostState>,
    /// Distinguishes artifacts compiled by differently configured engines.
    artifact_tag: String,
    /// Serialises writing an artifact and recording its hash.
    artifact_writes: Mutex<()>,
    stop_ticker: Arc<AtomicBool>,
}

impl RuleEngine {
    /// Creates the engine (epoch interruption on, Cranelift optimising for speed) and starts
    /// its ticker thread.
    pub fn new() -> Result<Arc<RuleEngine>, RuleError> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.cranelift_opt_level(OptLevel::Speed);
        config.wasm_component_model(true);
        let engine = Engine::new(&config).map_err(|e| RuleError::Engine(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        bindings::conftrail::rule::host::add_to_linker::<
            HostState,
            wasmtime::component::HasSelf<HostState>,
        >(&mut linker, |state| state)
        .map_err(|e| RuleError::Engine(e.to_string()))?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let artifact_tag = format!("{:016x}", hasher.finish());
        let stop_ticker = Arc::new(AtomicBool::new(false));
        let ticker_engine = engine.clone();
        let stop = stop_ticker.clone();
        std::thread::Builder::new()
            .name("conftrail-epoch".to_string())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    ticker_engine.increment_epoch();
                }
            })
            .map_err(|e| RuleError::Engine(format!("cannot start the epoch ticker: {e}")))?;
        Ok(Arc::new(RuleEngine {
            engine,
            linker,
            artifact_tag,
            artifact_writes: Mutex::new(()),
            stop_ticker,
        }))
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The linker offering the host imports.
    pub(crate) fn linker(&self) -> &Linker<HostState> {
        &self.linker
    }

    /// Compiles a component (validated bytes) in memory.
    pub fn compile(&self, component_bytes: &[u8]) -> Result<Component, RuleError> {
        Component::new(&self.engine, component_bytes).map_err(|e| RuleError::Invalid {
            reason: format!("cannot compile the component: {e:#}"),
        })
    }

    /// Where the precompiled artifact of a component with this content hash lives under `dir`.
    pub fn artifact_path(&self, dir: &Path, component_hash: &str) -> PathBuf {
        dir.join(self.artifact_name(component_hash))
    }

    /// The file name of the precompiled artifact of a component with this content hash.
    fn artifact_name(&self, component_hash: &str) -> String {
        format!("{component_hash}-{}.cwasm", self.artifact_tag)
    }

    /// The precompiled artifact of a component kept in the store's artifact directory, if
    /// there is one whose bytes have the keyed hash the store recorded when it was written.
    pub fn load_artifact(&self, store: &Store, component_hash: &str) -> Option<Component> {
        let name = self.artifact_name(component_hash);
        let path = store.artifact_dir().join(&name);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read rule artifact; recompiling");
                return None;
            }
        };
        // Checked in memory and deserialised from the same bytes: the file cannot change
        // in between.
        match store.check_artifact(&name, &bytes) {
            Ok(ArtifactCheck::Matches) => {}
            Ok(ArtifactCheck::Differs) => {
                tracing::warn!(path = %path.display(), "rule artifact does not match its recorded hash (damaged or altered); recompiling from the stored module");
                return None;
            }
            Ok(ArtifactCheck::Unrecorded) => {
                tracing::warn!(path = %path.display(), "rule artifact has no recorded hash; recompiling from the stored module");
                return None;
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot check rule artifact; recompiling");
                return None;
            }
        }
        // SAFETY: these are the exact bytes conftrail serialised with an engine of this
        // configuration (the keyed hash recorded in the store proves it); wasmtime checks the
        // header and engine compatibility on top.
        match unsafe { Component::deserialize(&self.engine, &bytes) } {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "recompiling unusable rule artifact");
                None
            }
        }
    }

    /// Loads the precompiled artifact for `component_bytes` from the store's artifact
    /// directory, compiling, writing and recording it first when it is missing, unusable
    /// (e.g. written by another wasmtime version) or not the one recorded.
    pub fn load_or_compile(
        &self,
        store: &Store,
        component_hash: &str,
        component_bytes: &[u8],
    ) -> Result<Component, RuleError> {
        if let Some(component) = self.load_artifact(store, component_hash) {
            return Ok(component);
        }
        let component = self.compile(component_bytes)?;
        let name = self.artifact_name(component_hash);
        let path = store.artifact_dir().join(&name);
        // One writer at a time, so a file and its recorded hash always come from one compile.
        let _one_writer = self
            .artifact_writes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(e) = write_artifact(store, &name, &path, &component) {
            // Still usable in memory; the next process compiles again.
            tracing::warn!(path = %path.display(), error = %e, "cannot keep rule artifact");
        }
        Ok(component)
    }
}

/// Writes the artifact file, then records its keyed hash (a crash in between leaves an
/// unrecorded artifact, which is compiled again).
fn write_artifact(
    store: &Store,
    name: &str,
    path: &Path,
    component: &Component,
) -> Result<(), String> {
    let bytes = component.serialize().map_err(|e| e.to_string())?;
    let dir = path.parent().ok_or("artifact path has no directory")?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| e.to_string())?;
    std::io::Write::write_all(&mut tmp, &bytes).map_err(|e| e.to_string())?;
    tmp.persist(path).map_err(|e| e.to_string())?;
    store
        .record_artifact(name, &bytes)
        .map_err(|e| e.to_string())?;
    Ok(())
}

impl Drop for RuleEngine {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}
