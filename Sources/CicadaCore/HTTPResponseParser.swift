/// An incremental HTTP/1.1 response parser for the fast transport: bytes go in as they arrive
/// (split anywhere), the head, body slices and the end of the response come out.
///
/// Pure and allocation-free on the common path (a whole head in one read is parsed in place;
/// only a head split across reads is copied), so it is tested split at every byte and fuzzed
/// (`fuzz/Sources/FuzzHTTPResponse`). It covers what a load tester meets: the status line,
/// `Content-Length`, `Transfer-Encoding: chunked` (chunk extensions and trailers skipped),
/// `Connection: close` and HTTP/1.0, interim `1xx` responses skipped, and responses without a
/// body (to `HEAD`, `204`, `304`). A head over ``maxHeadBytes`` is refused, as libcurl refuses
/// one over 100 KiB, so a broken server cannot grow the generator's memory.
public struct HTTPResponseParser: Sendable {
    /// The parts of a response head the transport needs.
    public struct Head: Sendable, Equatable {
        public var status: Int
        /// `Content-Length`, when given (and not overridden by chunked encoding).
        public var contentLength: Int64?
        public var chunked = false
        /// The server will close the connection after this response (`Connection: close`, or
        /// HTTP/1.0 without keep-alive, or a body that runs to the close).
        public var closesConnection = false
        /// The `Content-Type` value as sent.
        public var contentType: String?
        /// The `Retry-After` value as sent.
        public var retryAfter: String?
        public init(status: Int) { self.status = status }
    }

    /// Why a response could not be parsed.
    public enum Failure: Error, Sendable, Equatable {
        /// Bytes that are not an HTTP/1.x response, with what was wrong.
        case malformed(String)
        /// The head grew past ``maxHeadBytes`` without ending.
        case headTooLarge(limit: Int)

        /// A message in words, for the error table.
        public var message: String {
            switch self {
            case .malformed(let why): return "Weird server reply (\(why))"
            case .headTooLarge(let limit): return "response head larger than \(limit / 1024) KiB refused"
            }
        }
    }

    /// What a call to ``parse(_:_:)`` or ``finish()`` came to.
    public enum Progress: Sendable, Equatable {
        /// All input was used; the response goes on.
        case needMore
        /// The response ended after `consumed` bytes of this input (the rest is not its).
        case complete(consumed: Int)
        case failed(Failure)
    }

    /// What the parser hands out while parsing.
    public enum Event {
        /// The final (non-1xx) response head.
        case head(Head)
        /// Body bytes (chunk framing removed); valid only during the call.
        case body(UnsafeRawBufferPointer)
    }

    /// The largest response head accepted (libcurl's own limit is 100 KiB).
    public static let maxHeadBytes = 100 * 1024

    private enum State: Sendable {
        case head
        case fixed(remaining: Int64)
        case untilClose
        case chunkSize(value: UInt64, digits: Int, inExtension: Bool, sawCR: Bool)
        case chunkData(remaining: UInt64)
        case chunkDataEnd(sawCR: Bool)
        /// Trailer lines after the last chunk; `lineLength` of the current one.
        case trailers(lineLength: Int, sawCR: Bool)
        case done
    }

    private var state = State.head
    private var headBuffer: [UInt8] = []
    /// Whether the request was `HEAD` (its response has no body whatever it says).
    public var requestWasHEAD: Bool
    /// The final head, once parsed.
    public private(set) var head: Head?
    /// Whether any byte of the response has been seen (a `1xx` counts).
    public private(set) var sawAnyByte = false

    public init(requestWasHEAD: Bool = false) { self.requestWasHEAD = requestWasHEAD }

    /// Ready for the next response on the same connection.
    public mutating func reset(requestWasHEAD: Bool) {
        state = .head
        headBuffer.removeAll(keepingCapacity: headBuffer.capacity <= 16 * 1024)
        self.requestWasHEAD = requestWasHEAD
        head = nil
        sawAnyByte = false
    }

    /// Whether the body runs until the server closes the connection (no length, not chunked).
    public var readsUntilClose: Bool { if case .untilClose = state { return true } else { return false } }

    /// The connection closed: a body that runs to the close is complete; anything else is cut
    /// short (`nil`: the response is incomplete, a `connection_reset` to the caller).
    public mutating func finish() -> Progress? {
        switch state {
        case .untilClose: state = .done; return .complete(consumed: 0)
        case .done: return .complete(consumed: 0)
        default: return nil
        }
    }

    /// Feeds the next bytes of the response; events go to `sink` in order.
    public mutating func parse(_ input: UnsafeRawBufferPointer, _ sink: (Event) -> Void) -> Progress {
        guard input.count > 0 else { return .needMore }
        sawAnyByte = true
        var i = 0
        let n = input.count
        while i < n {
            switch state {
            case .done:
                return .complete(consumed: i)
            case .head:
                // Find the blank line ending the head, in the input or across the saved part.
                if headBuffer.isEmpty, let end = Self.headEnd(input, from: i) {
                    if end - i > Self.maxHeadBytes { return .failed(.headTooLarge(limit: Self.maxHeadBytes)) }
                    let r = UnsafeRawBufferPointer(rebasing: input[i..<end])
                    if let f = beginBody(headBytes: r, sink) { return .failed(f) }
                    i = end
                } else {
                    let old = headBuffer.count
                    let room = Self.maxHeadBytes - old
                    let take = min(n - i, room + 4)
                    headBuffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[i..<(i + take)]))
                    let found: Int? = headBuffer.withUnsafeBytes { Self.headEnd($0, from: max(0, old - 3)) }
                    if let end = found {
                        let used = end - old
                        if end > Self.maxHeadBytes { return .failed(.headTooLarge(limit: Self.maxHeadBytes)) }
                        let bytes = Array(headBuffer[0..<end])
                        headBuffer.removeAll(keepingCapacity: true)
                        let f = bytes.withUnsafeBytes { beginBody(headBytes: $0, sink) }
                        if let f { return .failed(f) }
                        i += used
                    } else {
                        if headBuffer.count > Self.maxHeadBytes { return .failed(.headTooLarge(limit: Self.maxHeadBytes)) }
                        if let f = Self.earlyCheck(headBuffer) { return .failed(f) }
                        i += take
                    }
                }
            case .fixed(let remaining):
                let take = Int(min(Int64(n - i), remaining))
                if take > 0 { sink(.body(UnsafeRawBufferPointer(rebasing: input[i..<(i + take)]))) }
                i += take
                if remaining - Int64(take) == 0 { state = .done } else { state = .fixed(remaining: remaining - Int64(take)) }
            case .untilClose:
                sink(.body(UnsafeRawBufferPointer(rebasing: input[i..<n])))
                i = n
            case .chunkSize(var value, var digits, var inExtension, let sawCR):
                let b = input[i]
                i += 1
                if sawCR {
                    guard b == 0x0A else { return .failed(.malformed("bad chunk size line")) }
                    guard digits > 0 else { return .failed(.malformed("empty chunk size")) }
                    state = value == 0 ? .trailers(lineLength: 0, sawCR: false) : .chunkData(remaining: value)
                    continue
                }
                if b == 0x0D { state = .chunkSize(value: value, digits: digits, inExtension: inExtension, sawCR: true); continue }
                if b == 0x0A {
                    guard digits > 0 else { return .failed(.malformed("empty chunk size")) }
                    state = value == 0 ? .trailers(lineLength: 0, sawCR: false) : .chunkData(remaining: value)
                    continue
                }
                if inExtension {
                    // Extensions (`;name=value`) are skipped, but bounded like a head.
                    digits += 1
                    if digits > Self.maxHeadBytes { return .failed(.headTooLarge(limit: Self.maxHeadBytes)) }
                    state = .chunkSize(value: value, digits: digits, inExtension: true, sawCR: false)
                    continue
                }
                if b == UInt8(ascii: ";") || ((b == 0x20 || b == 0x09) && digits > 0) {
                    inExtension = true
                } else if let h = Self.hexValue(b) {
                    guard digits < 15 else { return .failed(.malformed("chunk size too large")) }
                    value = value << 4 | UInt64(h)
                    digits += 1
                } else {
                    return .failed(.malformed("bad chunk size"))
                }
                state = .chunkSize(value: value, digits: digits, inExtension: inExtension, sawCR: false)
            case .chunkData(let remaining):
                let take = Int(min(UInt64(n - i), remaining))
                sink(.body(UnsafeRawBufferPointer(rebasing: input[i..<(i + take)])))
                i += take
                state = remaining - UInt64(take) == 0 ? .chunkDataEnd(sawCR: false) : .chunkData(remaining: remaining - UInt64(take))
            case .chunkDataEnd(let sawCR):
                let b = input[i]
                i += 1
                if b == 0x0D, !sawCR { state = .chunkDataEnd(sawCR: true); continue }
                guard b == 0x0A else { return .failed(.malformed("chunk not followed by CRLF")) }
                state = .chunkSize(value: 0, digits: 0, inExtension: false, sawCR: false)
            case .trailers(let lineLength, let sawCR):
                let b = input[i]
                i += 1
                if b == 0x0D, !sawCR { state = .trailers(lineLength: lineLength, sawCR: true); continue }
                if b == 0x0A {
                    if lineLength == 0 { state = .done; return .complete(consumed: i) }
                    state = .trailers(lineLength: 0, sawCR: false)
                    continue
                }
                if sawCR { return .failed(.malformed("bad trailer line")) }
                if lineLength >= Self.maxHeadBytes { return .failed(.headTooLarge(limit: Self.maxHeadBytes)) }
                state = .trailers(lineLength: lineLength + 1, sawCR: false)
            }
        }
        if case .done = state { return .complete(consumed: n) }
        return .needMore
    }

    /// Parses a whole head (status line through the blank line) and sets the body state. A
    /// `1xx` head is skipped (the parser waits for the next head).
    private mutating func beginBody(headBytes: UnsafeRawBufferPointer, _ sink: (Event) -> Void) -> Failure? {
        let h: Head
        switch Self.parseHead(headBytes) {
        case .success(let parsed): h = parsed
        case .failure(let f): return f
        }
        if (100..<200).contains(h.status) {
            if h.status == 101 { return .malformed("unexpected 101 Switching Protocols") }
            state = .head
            return nil
        }
        head = h
        sink(.head(h))
        if requestWasHEAD || h.status == 204 || h.status == 304 {
            state = .done
        } else if h.chunked {
            state = .chunkSize(value: 0, digits: 0, inExtension: false, sawCR: false)
        } else if let len = h.contentLength {
            state = len == 0 ? .done : .fixed(remaining: len)
        } else {
            state = .untilClose
            head!.closesConnection = true
        }
        return nil
    }

    /// The index just past the blank line that ends a head (`\r\n\r\n` or a bare `\n\n`).
    public static func headEnd(_ b: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var i = start
        let n = b.count
        while i < n {
            if b[i] == 0x0A {
                if i + 1 < n, b[i + 1] == 0x0A { return i + 2 }
                if i + 2 < n, b[i + 1] == 0x0D, b[i + 2] == 0x0A { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    /// Refuses, before the head ends, bytes that cannot start an HTTP response, so garbage
    /// without a blank line fails at once instead of waiting for the timeout.
    static func earlyCheck(_ buf: [UInt8]) -> Failure? {
        let prefix: [UInt8] = Array("HTTP/1.".utf8)
        let k = min(buf.count, prefix.count)
        for j in 0..<k where buf[j] != prefix[j] { return .malformed("not an HTTP/1.x status line") }
        return nil
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }

    private static func lower(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b }

    /// Whether `b[start..<end]` equals lowercase ASCII `name`, ignoring case.
    private static func equalsIgnoringCase(_ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ name: StaticString) -> Bool {
        guard end - start == name.utf8CodeUnitCount else { return false }
        let p = name.utf8Start
        for j in 0..<(end - start) where lower(b[start + j]) != p[j] { return false }
        return true
    }

    /// Whether a comma-separated header value holds `token` (lowercase), ignoring case.
    private static func hasToken(_ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ token: StaticString) -> Bool {
        var s = start
        while s < end {
            var e = s
            while e < end, b[e] != UInt8(ascii: ",") { e += 1 }
            var ts = s, te = e
            while ts < te, b[ts] == 0x20 || b[ts] == 0x09 { ts += 1 }
            while te > ts, b[te - 1] == 0x20 || b[te - 1] == 0x09 { te -= 1 }
            if equalsIgnoringCase(b, ts, te, token) { return true }
            s = e + 1
        }
        return false
    }

    /// The last token of a comma-separated value is `token` (for Transfer-Encoding).
    private static func lastTokenIs(_ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ token: StaticString) -> Bool {
        var s = end
        while s > start, b[s - 1] != UInt8(ascii: ",") { s -= 1 }
        var ts = s, te = end
        while ts < te, b[ts] == 0x20 || b[ts] == 0x09 { ts += 1 }
        while te > ts, b[te - 1] == 0x20 || b[te - 1] == 0x09 { te -= 1 }
        return equalsIgnoringCase(b, ts, te, token)
    }

    /// Parses a complete head: `HTTP/1.x SSS reason`, then header lines.
    static func parseHead(_ b: UnsafeRawBufferPointer) -> Result<Head, Failure> {
        let n = b.count
        // Status line.
        guard n >= 12, b[0] == UInt8(ascii: "H"), b[1] == UInt8(ascii: "T"), b[2] == UInt8(ascii: "T"), b[3] == UInt8(ascii: "P"),
              b[4] == UInt8(ascii: "/"), b[5] == UInt8(ascii: "1"), b[6] == UInt8(ascii: "."),
              b[7] >= 0x30, b[7] <= 0x39, b[8] == 0x20 else { return .failure(.malformed("not an HTTP/1.x status line")) }
        let minor = b[7] - 0x30
        var status = 0
        for j in 9..<12 {
            guard b[j] >= 0x30, b[j] <= 0x39 else { return .failure(.malformed("bad status code")) }
            status = status * 10 + Int(b[j] - 0x30)
        }
        guard status >= 100, n > 12, b[12] == 0x20 || b[12] == 0x0D || b[12] == 0x0A else { return .failure(.malformed("bad status code")) }
        var head = Head(status: status)
        var keepAlive = false, close = false
        var i = 12
        while i < n, b[i] != 0x0A { i += 1 }
        i += 1
        // Header lines until the blank one.
        while i < n {
            var e = i
            while e < n, b[e] != 0x0A { e += 1 }
            var lineEnd = e
            if lineEnd > i, b[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            if lineEnd == i { break }   // the blank line
            if b[i] == 0x20 || b[i] == 0x09 { return .failure(.malformed("folded header line")) }
            var colon = i
            while colon < lineEnd, b[colon] != UInt8(ascii: ":") { colon += 1 }
            guard colon < lineEnd, colon > i else { return .failure(.malformed("header line without a name and colon")) }
            var vs = colon + 1, ve = lineEnd
            while vs < ve, b[vs] == 0x20 || b[vs] == 0x09 { vs += 1 }
            while ve > vs, b[ve - 1] == 0x20 || b[ve - 1] == 0x09 { ve -= 1 }
            switch colon - i {
            case 14 where equalsIgnoringCase(b, i, colon, "content-length"):
                var v: Int64 = 0
                guard ve > vs, ve - vs <= 18 else { return .failure(.malformed("bad Content-Length")) }
                for j in vs..<ve {
                    guard b[j] >= 0x30, b[j] <= 0x39 else { return .failure(.malformed("bad Content-Length")) }
                    v = v * 10 + Int64(b[j] - 0x30)
                }
                if let old = head.contentLength, old != v { return .failure(.malformed("conflicting Content-Length")) }
                head.contentLength = v
            case 17 where equalsIgnoringCase(b, i, colon, "transfer-encoding"):
                head.chunked = lastTokenIs(b, vs, ve, "chunked")
                if !head.chunked, !equalsIgnoringCase(b, vs, ve, "identity") { return .failure(.malformed("unsupported Transfer-Encoding")) }
            case 10 where equalsIgnoringCase(b, i, colon, "connection"):
                if hasToken(b, vs, ve, "close") { close = true }
                if hasToken(b, vs, ve, "keep-alive") { keepAlive = true }
            case 12 where equalsIgnoringCase(b, i, colon, "content-type"):
                head.contentType = String(decoding: UnsafeRawBufferPointer(rebasing: b[vs..<ve]), as: UTF8.self)
            case 11 where equalsIgnoringCase(b, i, colon, "retry-after"):
                head.retryAfter = String(decoding: UnsafeRawBufferPointer(rebasing: b[vs..<ve]), as: UTF8.self)
            default: break
            }
            i = e + 1
        }
        if head.chunked { head.contentLength = nil }
        head.closesConnection = close || (minor == 0 && !keepAlive)
        return .success(head)
    }

    /// A `Retry-After` value in seconds: delta-seconds, or an HTTP date (IMF-fixdate,
    /// `Sun, 06 Nov 1994 08:49:37 GMT`) made relative to `nowUnixSeconds`; nil when it is
    /// neither or not in the future, as libcurl reads it.
    public static func retryAfterSeconds(_ value: String, nowUnixSeconds: Int64) -> Int64? {
        let v = value.trimmingASCIISpaces
        if !v.isEmpty, v.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            guard let s = Int64(v) else { return nil }
            return s > 0 ? s : nil
        }
        let parts = v.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int64(parts[1]), let year = Int64(parts[3]) else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let m = months.firstIndex(of: String(parts[2])) else { return nil }
        let hms = parts[4].split(separator: ":").compactMap { Int64($0) }
        guard hms.count == 3 else { return nil }
        let unix = CivilDate.daysSince1970(year: year, month: Int64(m + 1), day: day) * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2]
        let delta = unix - nowUnixSeconds
        return delta > 0 ? delta : nil
    }
}

extension String {
    fileprivate var trimmingASCIISpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
