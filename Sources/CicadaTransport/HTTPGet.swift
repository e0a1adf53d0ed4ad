import CCurl

/// A blocking HTTP GET with a timeout, for scraping telemetry endpoints off the load path.
public enum HTTPGet {
    /// A GET that failed or answered with an error status.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    final class Sink {
        var bytes: [UInt8] = []
        let limit: Int
        init(limit: Int) { self.limit = limit }
    }

    /// The body of `url`; throws on a transport error, a status >= 400, or a body over `limit`.
    public static func fetch(_ url: String, timeout: Duration, limit: Int = 64 << 20) throws -> [UInt8] {
        guard let e = curl_easy_init() else { throw Failure(description: "curl_easy_init failed") }
        defer { curl_easy_cleanup(e) }
        let sink = Sink(limit: limit)
        let ctx = Unmanaged.passUnretained(sink).toOpaque()
        _ = ccurl_easy_setopt_string(e, CURLOPT_URL, url)
        _ = ccurl_easy_setopt_long(e, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_easy_setopt_string(e, CURLOPT_NOPROXY, "*")
        _ = ccurl_easy_setopt_long(e, CURLOPT_TIMEOUT_MS, Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        _ = ccurl_easy_setopt_long(e, CURLOPT_CONNECTTIMEOUT_MS, 2000)
        _ = ccurl_easy_setopt_write_function(e, CURLOPT_WRITEFUNCTION, getWriteCallback)
        _ = ccurl_easy_setopt_pointer(e, CURLOPT_WRITEDATA, ctx)
        let rc = withExtendedLifetime(sink) { curl_easy_perform(e) }
        guard rc == CURLE_OK else {
            throw Failure(description: "GET \(url): " + String(cString: curl_easy_strerror(rc)))
        }
        var status = 0
        _ = ccurl_easy_getinfo_long(e, CURLINFO_RESPONSE_CODE, &status)
        guard status < 400 else { throw Failure(description: "GET \(url): HTTP \(status)") }
        return sink.bytes
    }
}

let getWriteCallback: ccurl_write_callback = { ptr, size, nmemb, userdata in
    let n = size * nmemb
    guard let userdata, let ptr else { return n }
    let sink = Unmanaged<HTTPGet.Sink>.fromOpaque(userdata).takeUnretainedValue()
    guard sink.bytes.count + n <= sink.limit else { return 0 }
    ptr.withMemoryRebound(to: UInt8.self, capacity: n) { sink.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
    return n
}
