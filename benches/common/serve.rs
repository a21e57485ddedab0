//! A `conftrail serve` in this process on 127.0.0.1 (no tokens, workers off), for the
//! benchmarks that go over real HTTP.

use conftrail::app::App;
use conftrail::runtime::server::{Server, ServerSettings};

/// A server running on its own async runtime.
pub struct Served {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    runtime: tokio::runtime::Runtime,
    server: Server,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    /// Starts serving `app`.
    pub fn start(app: App) -> Served {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = Server::start(
            app,
            ServerSettings {
                listen: addr,
                tokens: conftrail::api::Tokens::default(),
                workers: false,
                runtime: Default::default(),
                file: Default::default(),
            },
        )
        .expect("server");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = runtime.spawn(server.serve(listener, async {
            let _ = stopped.await;
        }));
        Served {
            base: format!("http://{addr}"),
            runtime,
            server,
            stop,
            serving,
        }
    }

    /// Stops serving and flushes the store.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.runtime.block_on(self.serving);
        self.server.stop().expect("stop");
    }
}
