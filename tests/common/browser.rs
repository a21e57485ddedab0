//! A real, headless Chromium driven through chromedriver (WebDriver, with `fantoccini`), for
//! the console's end-to-end tests. Both come from Debian (`apt-get install chromium
//! chromium-driver`): `.ci/browser` installs them, and runs here when they are missing; when
//! that fails, so does the test (it never skips).
//!
//! Not part of `common/mod.rs`: only the console's tests compile it (`#[path]`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

/// Chromium's binary.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// chromedriver's binary.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Installs Chromium and chromedriver with `.ci/browser` (apt) when either is missing, once
/// per test binary; fails the test when that cannot be done.
fn install() {
    static INSTALLED: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut installed = INSTALLED.lock().unwrap_or_else(|p| p.into_inner());
    let present = || {
        [CHROMIUM, CHROMEDRIVER]
            .iter()
            .all(|t| Path::new(t).exists())
    };
    if *installed || present() {
        *installed = true;
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/browser");
    let status = Command::new(&script).status().expect("run .ci/browser");
    assert!(
        status.success() && present(),
        "Chromium and chromedriver are missing and {} could not install them \
         (apt-get install chromium chromium-driver)",
        script.display()
    );
    *installed = true;
}

/// A chromedriver process and a browser session on it; both end when dropped.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
    /// Where downloads land.
    pub downloads: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// Starts chromedriver and a headless Chromium (1280×800).
    pub async fn start() -> Browser {
        install();
        let port = free_port();
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = driver.try_wait() {
                panic!("chromedriver exited: {status}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "chromedriver did not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let downloads = tempfile::tempdir().expect("download dir");
        let capabilities = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-background-networking", "--disable-dev-shm-usage",
                         "--window-size=1280,800"],
                "prefs": {
                    "download.default_directory": downloads.path(),
                    "download.prompt_for_download": false,
                },
            },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("an object literal")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&url)
            .await
            .expect("a browser session");
        Browser {
            client,
            driver,
            downloads,
        }
    }

    /// Opens `url` and waits until `css` is on the page.
    pub async fn open(&self, url: &str, css: &str) {
        self.client.goto(url).await.expect("navigate");
        self.wait_for(css).await;
    }

    /// Waits (20 s at most) until `css` matches an element.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
    }

    /// Waits (20 s at most) until the page's text contains `text`.
    pub async fn wait_for_text(&self, text: &str) {
        let started = Instant::now();
        loop {
            let body = self.try_text("body").await.unwrap_or_default();
            if body.contains(text) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{text:?} never appeared; the page says:\n{body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The visible text of the first element matching `css`, its whitespace (the line breaks
    /// between boxes) collapsed to single spaces; waits (20 s at most) for it, and reads it
    /// again when a page load or a live update replaces it while it is read.
    pub async fn text(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            if let Some(text) = self.try_text(css).await {
                return text;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no {css} to read"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// [`Browser::text`] once: none when the element is missing or was replaced meanwhile.
    async fn try_text(&self, css: &str) -> Option<String> {
        let element = self.client.find(Locator::Css(css)).await.ok()?;
        let text = element.text().await.ok()?;
        Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    /// Types into the field matching `css` (replacing what it held).
    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.wait_for(css).await;
        field.clear().await.expect("clear");
        field.send_keys(value).await.expect("type");
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.expect("click");
    }

    /// Saves a screenshot of the window as `target/console-screenshots/NAME.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Waits (20 s at most) for a finished download whose name ends with `suffix`.
    pub async fn downloaded(&self, suffix: &str) -> PathBuf {
        let started = Instant::now();
        loop {
            let found = std::fs::read_dir(self.downloads.path())
                .expect("download dir")
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| p.to_string_lossy().ends_with(suffix));
            if let Some(path) = found {
                return path;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no *{suffix} was downloaded"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ends the session and chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

/// `target/console-screenshots`, next to the test binary's profile directory.
pub fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    // target/<profile>/deps/<binary>
    exe.ancestors()
        .nth(3)
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
        .join("console-screenshots")
}
