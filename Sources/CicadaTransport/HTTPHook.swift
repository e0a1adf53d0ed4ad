import CCurl
import CicadaCore

/// Sends a scenario's hook requests (`before_run`, `before_each_point`): one blocking request
/// each, off the load path, before the load starts.
public enum HTTPHook {
    /// A hook that failed: its method, URL and what went wrong (transport error or status).
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Sends `hook` to `base` (a URL with no trailing slash) with the scenario's headers; the
    /// HTTP status on success (any 2xx or 3xx), else throws with the method, URL and reason.
    @discardableResult
    public static func send(_ hook: HookSpec, base: String, headers: [(name: String, value: String)], insecure: Bool,
                            timeout: Duration = .seconds(30)) throws(Failure) -> Int {
        let url = hook.url(base: base)
        let what = "\(hook.method) \(url)"
        guard let e = curl_easy_init() else { throw Failure(description: "\(what): curl_easy_init failed") }
        defer { curl_easy_cleanup(e) }
        let sink = HTTPGet.Sink(limit: 64 << 10)
        let ctx = Unmanaged.passUnretained(sink).toOpaque()
        _ = ccurl_easy_setopt_string(e, CURLOPT_URL, url)
        _ = ccurl_easy_setopt_long(e, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_easy_setopt_string(e, CURLOPT_NOPROXY, "*")
        _ = ccurl_easy_setopt_long(e, CURLOPT_TIMEOUT_MS, Int(timeout.components.seconds * 1000))
        _ = ccurl_easy_setopt_long(e, CURLOPT_CONNECTTIMEOUT_MS, 5000)
        if insecure {
            _ = ccurl_easy_setopt_long(e, CURLOPT_SSL_VERIFYPEER, 0)
            _ = ccurl_easy_setopt_long(e, CURLOPT_SSL_VERIFYHOST, 0)
        }
        switch hook.method {
        case "GET": break
        case "HEAD": _ = ccurl_easy_setopt_long(e, CURLOPT_NOBODY, 1)
        default:
            if hook.method == "POST" { _ = ccurl_easy_setopt_long(e, CURLOPT_POST, 1) } else {
                _ = ccurl_easy_setopt_string(e, CURLOPT_CUSTOMREQUEST, hook.method)
            }
            let body = hook.body ?? ""
            _ = ccurl_easy_setopt_long(e, CURLOPT_POSTFIELDSIZE, body.utf8.count)
            _ = ccurl_easy_setopt_string(e, CURLOPT_COPYPOSTFIELDS, body)
        }
        var list: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "Expect:")
        for h in headers { list = curl_slist_append(list, "\(h.name): \(h.value)") }
        if hook.body != nil { list = curl_slist_append(list, "Content-Type: application/json") }
        defer { curl_slist_free_all(list) }
        _ = ccurl_easy_setopt_slist(e, CURLOPT_HTTPHEADER, list)
        _ = ccurl_easy_setopt_write_function(e, CURLOPT_WRITEFUNCTION, getWriteCallback)
        _ = ccurl_easy_setopt_pointer(e, CURLOPT_WRITEDATA, ctx)
        let rc = withExtendedLifetime(sink) { curl_easy_perform(e) }
        guard rc == CURLE_OK else { throw Failure(description: "\(what): " + String(cString: curl_easy_strerror(rc))) }
        var status = 0
        _ = ccurl_easy_getinfo_long(e, CURLINFO_RESPONSE_CODE, &status)
        guard status < 400 else {
            let excerpt = String(decoding: sink.bytes.prefix(200), as: UTF8.self)
            throw Failure(description: "\(what): HTTP \(status)" + (excerpt.isEmpty ? "" : " \(excerpt)"))
        }
        return status
    }
}
