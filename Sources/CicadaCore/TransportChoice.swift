/// Which client puts a run's requests on the wire (`transport:` in a scenario, `--transport`).
///
/// `curl` is libcurl for everything (TLS, HTTP/2, proxies); `fast` is Cicada's own HTTP/1.1
/// client for plain `http://` targets (wrk's design: no per-request library work); `auto`
/// takes `fast` wherever it applies and libcurl elsewhere.
public enum TransportChoice: String, Sendable, CaseIterable {
    case curl, fast, auto
}
