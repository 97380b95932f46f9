//! A small W3C WebDriver client for the browser tests: chromedriver on a free
//! port, one headless Chromium per session (each its own profile, so its own
//! cookies), and the few commands a person's actions need.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

/// How long any expected change in a page may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(30);

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn chromedriver() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
    path.exists().then_some(path)
}

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    path.exists().then_some(path)
}

/// A running chromedriver; dropping it closes every browser it started.
pub struct Driver {
    process: Child,
    port: u16,
    chromium: PathBuf,
    http: reqwest::Client,
}

impl Driver {
    /// `None` (after `missing` has had its say) when Chromium or its driver is not installed.
    pub async fn start(missing: impl Fn(&str)) -> Option<Driver> {
        let (Some(driver), Some(chromium)) = (chromedriver(), chromium()) else {
            missing("chromium and chromium-driver (apt-get install chromium chromium-driver)");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let process = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver {
            process,
            port,
            chromium,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("http client"),
        };
        let started = Instant::now();
        loop {
            let status = driver.http.get(driver.url("/status")).send().await;
            if let Ok(response) = status {
                let body: Value = response.json().await.unwrap_or_default();
                if body["value"]["ready"] == true {
                    return Some(driver);
                }
            }
            assert!(
                started.elapsed() < PATIENCE,
                "chromedriver did not get ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// A new browser window with a fresh profile: nothing shared with the others.
    pub async fn browser(&self) -> Browser {
        let profile = std::env::temp_dir().join(format!(
            "concert-browser-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        // The network is closed here: whatever Chromium would fetch by itself stalls it.
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": self.chromium, "args": args},
        }}});
        let response = self
            .http
            .post(self.url("/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("chromedriver answers");
        let body: Value = response.json().await.expect("a JSON answer");
        let id = body["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {body}"))
            .to_owned();
        Browser {
            http: self.http.clone(),
            session: self.url(&format!("/session/{id}")),
            profile,
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // /shutdown makes chromedriver quit every browser it started; a plain
        // kill would leave them running.
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = stream.write_all(
                b"GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            );
            let _ = stream.read(&mut [0u8; 256]);
        }
        for _ in 0..50 {
            if let Ok(Some(_)) = self.process.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// One browser session.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    profile: PathBuf,
}

impl Browser {
    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.session);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("chromedriver answers");
        let status = response.status();
        let body: Value = response.json().await.expect("a JSON answer");
        assert!(status.is_success(), "{method} {path}: {status} {body}");
        body["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.command(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url})).await;
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page.
    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    /// The element matching `css`, waiting for it to exist, be shown and enabled.
    async fn element(&self, css: &str) -> String {
        let ready = "const e = document.querySelector(arguments[0]);
            return !!e && e.getClientRects().length > 0 && !e.disabled;";
        self.wait_until(&format!("{css} to be usable"), || async {
            self.script(ready, json!([css])).await == true
        })
        .await;
        let found = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        found[ELEMENT].as_str().expect("an element id").to_owned()
    }

    pub async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.post(&format!("/element/{id}/click"), json!({})).await;
    }

    /// Replaces the field's value by typing `text`, as a person would.
    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.post(&format!("/element/{id}/clear"), json!({})).await;
        self.post(&format!("/element/{id}/value"), json!({"text": text}))
            .await;
    }

    /// The text of the first element matching `css`, or `None` when there is none.
    pub async fn text(&self, css: &str) -> Option<String> {
        let script = "const e = document.querySelector(arguments[0]);
            return e ? e.textContent.trim() : null;";
        self.script(script, json!([css]))
            .await
            .as_str()
            .map(str::to_owned)
    }

    /// How many elements match `css`.
    pub async fn count(&self, css: &str) -> usize {
        let script = "return document.querySelectorAll(arguments[0]).length;";
        self.script(script, json!([css]))
            .await
            .as_u64()
            .unwrap_or(0) as usize
    }

    /// Waits until an element matching `css` exists.
    pub async fn wait_for(&self, css: &str) {
        self.wait_until(&format!("{css} to appear"), || async {
            self.count(css).await > 0
        })
        .await;
    }

    /// Waits until the element's text is `expected`.
    pub async fn wait_text(&self, css: &str, expected: &str) {
        self.wait_until(&format!("{css} to read {expected:?}"), || async {
            self.text(css).await.as_deref() == Some(expected)
        })
        .await;
    }

    /// Polls `check` until it holds, for at most `PATIENCE`; fails with what the page shows.
    pub async fn wait_until<F, Fut>(&self, what: &str, check: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let started = Instant::now();
        while !check().await {
            if started.elapsed() > PATIENCE {
                let notice = self.text("#notice").await.unwrap_or_default();
                panic!("waited {PATIENCE:?} for {what}; the page says: {notice:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Resizes the window to `width` and the page's full height, and saves a PNG.
    pub async fn screenshot(&self, width: u32, path: &Path) {
        self.post("/window/rect", json!({"width": width, "height": 900}))
            .await;
        // The window's height includes the browser's own frame: add it.
        let height = self
            .script(
                "return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight;",
                json!([]),
            )
            .await
            .as_u64()
            .unwrap_or(900)
            .clamp(300, 4000);
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await;
        self.script("window.scrollTo(0, 0);", json!([])).await;
        let png = self
            .command(reqwest::Method::GET, "/screenshot", None)
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("base64 PNG"))
            .expect("valid base64");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot folder");
        }
        std::fs::write(path, bytes).expect("screenshot written");
        self.post("/window/rect", json!({"width": 1280, "height": 900}))
            .await;
    }

    /// Ends the session (the browser exits) and removes its profile.
    pub async fn close(self) {
        self.command(reqwest::Method::DELETE, "", None).await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
