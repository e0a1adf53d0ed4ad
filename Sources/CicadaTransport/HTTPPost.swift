import CCurl

/// A blocking HTTP request off the load path (the consistency probe's POST, a scenario's hooks):
/// its status and body.
public enum HTTPPost {
    /// A request that got no HTTP answer (no connection, timeout, body too large).
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Posts `body` to `url` with `headers`; the status and the body (at most `limit` bytes),
    /// whatever the status; throws only when no answer came.
    public static func send(_ url: String, body: String, headers: [(name: String, value: String)], insecure: Bool,
                            timeout: Duration, limit: Int = 4 << 20) throws(Failure) -> (status: Int, body: [UInt8]) {
        try perform(method: "POST", url: url, body: body, headers: headers, insecure: insecure, timeout: timeout, limit: limit)
    }

    /// Sends one `method` request (`GET`, `HEAD`, `POST` or any other verb, which carries `body`)
    /// to `url`; the status and the body (at most `limit` bytes), whatever the status; throws
    /// "METHOD URL: reason" only when no answer came.
    static func perform(method: String, url: String, body: String?, headers: [(name: String, value: String)], insecure: Bool,
                        timeout: Duration, limit: Int) throws(Failure) -> (status: Int, body: [UInt8]) {
        let what = "\(method) \(url)"
        guard let e = curl_easy_init() else { throw Failure(description: "\(what): curl_easy_init failed") }
        defer { curl_easy_cleanup(e) }
        let sink = HTTPGet.Sink(limit: limit)
        let ctx = Unmanaged.passUnretained(sink).toOpaque()
        _ = ccurl_easy_setopt_string(e, CURLOPT_URL, url)
        _ = ccurl_easy_setopt_long(e, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_easy_setopt_string(e, CURLOPT_NOPROXY, "*")
        _ = ccurl_easy_setopt_long(e, CURLOPT_TIMEOUT_MS, Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        _ = ccurl_easy_setopt_long(e, CURLOPT_CONNECTTIMEOUT_MS, 5000)
        if insecure {
            _ = ccurl_easy_setopt_long(e, CURLOPT_SSL_VERIFYPEER, 0)
            _ = ccurl_easy_setopt_long(e, CURLOPT_SSL_VERIFYHOST, 0)
        }
        switch method {
        case "GET": break
        case "HEAD": _ = ccurl_easy_setopt_long(e, CURLOPT_NOBODY, 1)
        default:
            if method == "POST" { _ = ccurl_easy_setopt_long(e, CURLOPT_POST, 1) } else {
                _ = ccurl_easy_setopt_string(e, CURLOPT_CUSTOMREQUEST, method)
            }
            let body = body ?? ""
            _ = ccurl_easy_setopt_long(e, CURLOPT_POSTFIELDSIZE, body.utf8.count)
            _ = ccurl_easy_setopt_string(e, CURLOPT_COPYPOSTFIELDS, body)
        }
        var list: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "Expect:")
        for h in headers { list = curl_slist_append(list, "\(h.name): \(h.value)") }
        defer { curl_slist_free_all(list) }
        _ = ccurl_easy_setopt_slist(e, CURLOPT_HTTPHEADER, list)
        _ = ccurl_easy_setopt_write_function(e, CURLOPT_WRITEFUNCTION, getWriteCallback)
        _ = ccurl_easy_setopt_pointer(e, CURLOPT_WRITEDATA, ctx)
        let rc = withExtendedLifetime(sink) { curl_easy_perform(e) }
        guard rc == CURLE_OK else { throw Failure(description: "\(what): " + String(cString: curl_easy_strerror(rc))) }
        var status = 0
        _ = ccurl_easy_getinfo_long(e, CURLINFO_RESPONSE_CODE, &status)
        return (status, sink.bytes)
    }
}
