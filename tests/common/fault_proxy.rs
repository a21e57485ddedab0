//! A fault-injecting HTTP proxy in front of a real server (moto): each request is either
//! answered by the test's rule (a throttling error, a server error) or forwarded unchanged.
//! One request per connection (`Connection: close`), which every client handles.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// A request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Body, as text.
    pub body: String,
}

/// What to do with a request: `Some((status, body))` answers it so; `None` forwards it.
pub type Rule = Box<dyn FnMut(&Seen) -> Option<(u16, String)> + Send>;

/// A running proxy (its thread ends with the test process).
pub struct FaultProxy {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    rule: Arc<Mutex<Rule>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FaultProxy {
    /// A proxy to `upstream` that forwards everything until [`FaultProxy::set_rule`].
    pub fn start(upstream: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let rule: Arc<Mutex<Rule>> = Arc::new(Mutex::new(Box::new(|_| None)));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (upstream, thread_rule, thread_seen) =
            (upstream.to_string(), rule.clone(), seen.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (upstream, rule, seen) =
                    (upstream.clone(), thread_rule.clone(), thread_seen.clone());
                std::thread::spawn(move || {
                    let _ = handle(stream, &upstream, &rule, &seen);
                });
            }
        });
        FaultProxy { url, rule, seen }
    }

    /// Replaces the rule.
    pub fn set_rule(&self, rule: impl FnMut(&Seen) -> Option<(u16, String)> + Send + 'static) {
        *self.rule.lock().unwrap() = Box::new(rule);
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn handle(
    stream: TcpStream,
    upstream: &str,
    rule: &Mutex<Rule>,
    seen: &Mutex<Vec<Seen>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("GET").to_string();
    let path = parts.next().unwrap_or("/").to_string();
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let (name, value) = (name.trim().to_string(), value.trim().to_string());
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().unwrap_or(0);
            }
            headers.push((name, value));
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let request = Seen {
        method: method.clone(),
        path: path.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    seen.lock().unwrap().push(request.clone());
    let decided = (rule.lock().unwrap())(&request);
    let (status, response_headers, response_body) = match decided {
        Some((status, body)) => (status, vec![], body.into_bytes()),
        None => forward(upstream, &method, &path, &headers, body),
    };
    let mut out = stream;
    write!(out, "HTTP/1.1 {status} X\r\n")?;
    for (name, value) in response_headers {
        write!(out, "{name}: {value}\r\n")?;
    }
    write!(
        out,
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        response_body.len()
    )?;
    out.write_all(&response_body)?;
    out.flush()
}

fn forward(
    upstream: &str,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut builder = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{upstream}{path}"));
    for (name, value) in headers {
        let skip = ["host", "content-length", "connection", "transfer-encoding"];
        if !skip.iter().any(|s| name.eq_ignore_ascii_case(s)) {
            builder = builder.header(name.as_str(), value.as_str());
        }
    }
    let request = builder.body(body).expect("request");
    let mut response = agent.run(request).expect("upstream answers");
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter(|(k, _)| {
            !["content-length", "connection", "transfer-encoding"].contains(&k.as_str())
        })
        .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let body = response
        .body_mut()
        .with_config()
        .limit(256 * 1024 * 1024)
        .read_to_vec()
        .expect("upstream body");
    (status, headers, body)
}
