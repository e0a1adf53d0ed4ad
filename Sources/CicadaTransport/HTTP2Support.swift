import CCurl

extension Curl {
    /// libcurl's version as (major, minor, patch).
    public static var versionNumber: (major: Int, minor: Int, patch: Int) {
        guard let info = ccurl_version_info() else { return (0, 0, 0) }
        let v = Int(info.pointee.version_num)
        return (v >> 16 & 0xff, v >> 8 & 0xff, v & 0xff)
    }

    /// Why `--http2` cannot be measured against `baseURL` with this libcurl, or nil when it can.
    ///
    /// HTTP/2 to an `http://` URL is cleartext with prior knowledge (h2c). libcurl before 8.0.0
    /// breaks it on connection reuse: every request after a connection's first fails with "Error
    /// in the HTTP2 framing layer" (curl issue #10634, fixed by curl PR #10643 in 8.0.0; seen
    /// here with Debian 12's 7.88.1 against nginx and Cicada's own h2c target). Those failures
    /// would be the client's, not the server's, so the run is refused rather than reported.
    /// HTTP/2 over TLS (`https://`, negotiated by ALPN) is not affected.
    public static func http2Problem(baseURL: String, version: (major: Int, minor: Int, patch: Int) = versionNumber, hasHTTP2: Bool = hasHTTP2) -> String? {
        guard hasHTTP2 else { return "this libcurl (\(version.major).\(version.minor).\(version.patch)) was built without HTTP/2 support" }
        let cleartext = baseURL.lowercased().hasPrefix("http://")
        if cleartext && version.major < 8 {
            return "HTTP/2 to an http:// URL uses prior knowledge (h2c), which libcurl \(version.major).\(version.minor).\(version.patch) breaks on connection reuse: every request after a connection's first fails with \"Error in the HTTP2 framing layer\" (curl issue #10634, fixed in libcurl 8.0.0). Use an https:// URL (HTTP/2 negotiated over TLS), a libcurl >= 8.0.0, or HTTP/1.1"
        }
        return nil
    }
}
