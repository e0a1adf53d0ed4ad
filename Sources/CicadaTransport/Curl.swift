import CCurl

/// A libcurl call that failed, naming the C function and curl's own message.
public struct CurlError: Error, CustomStringConvertible {
    public var function: String
    public var code: Int
    public var message: String
    public var description: String { "\(function) failed (\(code)): \(message)" }
}

/// Process-wide libcurl set-up; must run before any worker thread starts.
public enum Curl {
    /// Initialises libcurl once (curl_global_init is not thread-safe).
    public static func globalInit() throws(CurlError) {
        let rc = curl_global_init(Int(CURL_GLOBAL_ALL))
        guard rc == CURLE_OK else {
            throw CurlError(function: "curl_global_init", code: Int(rc.rawValue), message: String(cString: curl_easy_strerror(rc)))
        }
    }

    /// libcurl's version string, e.g. "libcurl/7.88.1 OpenSSL/3.0.15 ...".
    public static var version: String { String(cString: curl_version()) }

    /// Whether libcurl resolves names off the calling thread (threaded resolver or c-ares),
    /// so a slow DNS answer never blocks a worker's event loop.
    public static var hasAsyncDNS: Bool {
        guard let info = ccurl_version_info() else { return false }
        return info.pointee.features & CURL_VERSION_ASYNCHDNS != 0
    }

    /// Whether this libcurl speaks HTTP/2.
    public static var hasHTTP2: Bool {
        guard let info = ccurl_version_info() else { return false }
        return info.pointee.features & CURL_VERSION_HTTP2 != 0
    }
}
