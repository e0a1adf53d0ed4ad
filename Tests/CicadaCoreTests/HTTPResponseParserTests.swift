import CicadaCore
import Testing

/// The fast transport's response parser, fed whole and split at every byte: the same head,
/// body and end (or the same failure) whatever the split.
@Suite struct HTTPResponseParserTests {
    /// What a parse came to: the head, the body, and where the response ended.
    struct Parsed: Equatable {
        var head: HTTPResponseParser.Head?
        var body: [UInt8] = []
        var consumed: Int?
        var failure: HTTPResponseParser.Failure?
        var heads = 0
    }

    /// Feeds `text` in pieces cut at `cuts`, then (if still open) the connection's close.
    static func parse(_ text: String, cuts: [Int] = [], head isHEAD: Bool = false, close: Bool = false) -> Parsed {
        let bytes = Array(text.utf8)
        var p = HTTPResponseParser(requestWasHEAD: isHEAD)
        var r = Parsed()
        var start = 0
        for end in (cuts.filter { $0 > 0 && $0 < bytes.count } + [bytes.count]) {
            let progress = bytes[start..<end].withUnsafeBytes { buf in
                p.parse(buf) { e in
                    switch e {
                    case .head(let h): r.head = h; r.heads += 1
                    case .body(let b): r.body.append(contentsOf: b)
                    }
                }
            }
            switch progress {
            case .needMore: start = end; continue
            case .complete(let n): r.consumed = start + n; return r
            case .failed(let f): r.failure = f; return r
            }
        }
        if close, let done = p.finish(), case .complete = done { r.consumed = bytes.count }
        return r
    }

    /// Checks that every single split (and every split into single bytes) gives `expected`.
    static func everySplit(_ text: String, head: Bool = false, close: Bool = false, _ expected: Parsed) {
        #expect(parse(text, head: head, close: close) == expected, "whole")
        let n = text.utf8.count
        for cut in 1..<max(1, n) {
            let got = parse(text, cuts: [cut], head: head, close: close)
            #expect(got == expected, "split at \(cut): \(got)")
        }
        #expect(parse(text, cuts: Array(1..<max(1, n)), head: head, close: close) == expected, "byte by byte")
    }

    static func head(_ status: Int, length: Int64? = nil, chunked: Bool = false, close: Bool = false, type: String? = nil, retry: String? = nil) -> HTTPResponseParser.Head {
        var h = HTTPResponseParser.Head(status: status)
        h.contentLength = length; h.chunked = chunked; h.closesConnection = close; h.contentType = type; h.retryAfter = retry
        return h
    }

    @Test func contentLength() {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"output\":1}\n"
        Self.everySplit(text, Parsed(head: Self.head(200, length: 13, type: "application/json"), body: Array("{\"output\":1}\n".utf8), consumed: text.utf8.count, heads: 1))
    }

    @Test func pipelinedBytesAfterTheResponseAreNotItsOwn() {
        let first = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        let r = Self.parse(first + "HTTP/1.1 200 OK\r\n")
        #expect(r.consumed == first.utf8.count)
        #expect(r.body == Array("ok".utf8))
    }

    @Test func chunkedWithExtensionsAndTrailers() {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5;name=value;x=\"q\"\r\nhello\r\n1 ; ext\r\n,\r\n6\r\n world\r\n0;last\r\nX-Trailer: 1\r\n\r\n"
        Self.everySplit(text, Parsed(head: Self.head(200, chunked: true), body: Array("hello, world".utf8), consumed: text.utf8.count, heads: 1))
    }

    @Test func chunkedEmpty() {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n0\r\n\r\n"
        Self.everySplit(text, Parsed(head: Self.head(200, chunked: true), body: [], consumed: text.utf8.count, heads: 1))
    }

    @Test func interimResponsesAreSkipped() {
        let text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx"
        Self.everySplit(text, Parsed(head: Self.head(201, length: 1), body: Array("x".utf8), consumed: text.utf8.count, heads: 1))
    }

    @Test func noBodyForHEAD204And304() {
        let headText = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
        Self.everySplit(headText, head: true, Parsed(head: Self.head(200, length: 1000), consumed: headText.utf8.count, heads: 1))
        for status in [204, 304] {
            let text = "HTTP/1.1 \(status) X\r\nContent-Length: 7\r\n\r\n"
            Self.everySplit(text, Parsed(head: Self.head(status, length: 7), consumed: text.utf8.count, heads: 1))
        }
    }

    @Test func bodyUntilCloseAndHTTP10() {
        let text = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it"
        // Without the close the response is still going on; with it, it is whole.
        #expect(Self.parse(text).consumed == nil)
        Self.everySplit(text, close: true, Parsed(head: Self.head(200, close: true, type: "text/plain"), body: Array("all of it".utf8), consumed: text.utf8.count, heads: 1))
        let keep = "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n"
        #expect(Self.parse(keep).head?.closesConnection == false)
        let close = "HTTP/1.1 200 OK\r\nconnection: upgrade, CLOSE\r\nContent-Length: 0\r\n\r\n"
        #expect(Self.parse(close).head?.closesConnection == true)
    }

    @Test func retryAfterAndBareLineFeeds() {
        let text = "HTTP/1.1 429 Too Many Requests\nRetry-After:  7 \nContent-Length: 2\n\n{}"
        Self.everySplit(text, Parsed(head: Self.head(429, length: 2, retry: "7"), body: Array("{}".utf8), consumed: text.utf8.count, heads: 1))
        #expect(HTTPResponseParser.retryAfterSeconds("7", nowUnixSeconds: 0) == 7)
        #expect(HTTPResponseParser.retryAfterSeconds("0", nowUnixSeconds: 0) == nil)
        // 1994-11-06 08:49:37 UTC is 784111777.
        #expect(HTTPResponseParser.retryAfterSeconds("Sun, 06 Nov 1994 08:49:37 GMT", nowUnixSeconds: 784_111_770) == 7)
        #expect(HTTPResponseParser.retryAfterSeconds("Sun, 06 Nov 1994 08:49:37 GMT", nowUnixSeconds: 784_111_790) == nil)
        #expect(HTTPResponseParser.retryAfterSeconds("soon", nowUnixSeconds: 0) == nil)
    }

    @Test(arguments: [
        ("\u{1}\u{2}\u{3} this is not HTTP\r\n\r\n", "not an HTTP/1.x status line"),
        ("HTTP/2 200\r\n\r\n", "not an HTTP/1.x status line"),
        ("HTTP/1.1 2x0 OK\r\n\r\n", "bad status code"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", "bad Content-Length"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "conflicting Content-Length"),
        ("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "header line without a name and colon"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX", "chunk not followed by CRLF"),
        ("HTTP/1.1 101 Switching Protocols\r\n\r\n", "unexpected 101 Switching Protocols"),
    ])
    func malformedIsRefusedWithItsReason(text: String, why: String) {
        Self.everySplit(text, Parsed(head: Self.parse(text).head, body: Self.parse(text).body, failure: .malformed(why), heads: Self.parse(text).heads))
        #expect(Self.parse(text).failure == .malformed(why))
    }

    @Test func oversizedHeadIsRefused() {
        let big = "HTTP/1.1 200 OK\r\nX-Big: " + String(repeating: "a", count: HTTPResponseParser.maxHeadBytes) + "\r\n\r\n"
        let want = HTTPResponseParser.Failure.headTooLarge(limit: HTTPResponseParser.maxHeadBytes)
        #expect(Self.parse(big).failure == want)
        #expect(Self.parse(big, cuts: Array(stride(from: 1000, to: big.utf8.count, by: 1000))).failure == want)
        #expect(want.message == "response head larger than 100 KiB refused")
        // Just under the limit is fine.
        let fits = "HTTP/1.1 200 OK\r\nX-Big: " + String(repeating: "a", count: HTTPResponseParser.maxHeadBytes - 100) + "\r\nContent-Length: 0\r\n\r\n"
        #expect(Self.parse(fits, cuts: [50_000]).consumed == fits.utf8.count)
    }

    @Test func truncatedResponsesAreNotComplete() {
        var p = HTTPResponseParser()
        let part = Array("HTTP/1.1 200 OK\r\nContent-Length: 64\r\n\r\n{\"output\":\"twenty\"}".utf8)
        let r = part.withUnsafeBytes { p.parse($0) { _ in } }
        #expect(r == .needMore)
        #expect(p.finish() == nil, "short of its Content-Length at the close")
        var q = HTTPResponseParser()
        _ = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"output\":\"chunk\r\n".utf8).withUnsafeBytes { q.parse($0) { _ in } }
        #expect(q.finish() == nil, "a chunked body without its last chunk")
        var empty = HTTPResponseParser()
        #expect(empty.finish() == nil && !empty.sawAnyByte)
    }

    @Test func resetForTheNextResponse() {
        var p = HTTPResponseParser()
        for round in 0..<3 {
            p.reset(requestWasHEAD: round == 1)
            let text = Array("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc".utf8)
            var body: [UInt8] = []
            let r = text.withUnsafeBytes { p.parse($0) { if case .body(let b) = $0 { body.append(contentsOf: b) } } }
            #expect(r == .complete(consumed: round == 1 ? text.count - 3 : text.count))
            #expect(body == (round == 1 ? [] : Array("abc".utf8)))
        }
    }

    /// The fuzz target's property on 20,000 seeded mutations of valid responses (bytes
    /// replaced, inserted, dropped): a parse split into pieces ends exactly as the whole parse.
    @Test func mutatedResponsesParseTheSameSplitOrWhole() {
        let seeds = [
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nT: 1\r\n\r\n",
            "HTTP/1.0 200 OK\r\n\r\nuntil the close",
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
        ].map { Array($0.utf8) }
        var rng = SeededRandom(seed: 17)
        let alphabet = Array("\r\n:;0123456789abcdefHTP/. ".utf8)
        for round in 0..<20_000 {
            var b = seeds[round % seeds.count]
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let at = Int(rng.next() % UInt64(b.count + 1))
                let byte = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                switch rng.next() % 3 {
                case 0: if at < b.count { b[at] = byte }
                case 1: b.insert(byte, at: at)
                default: if at < b.count { b.remove(at: at) }
                }
            }
            let text = String(decoding: b, as: UTF8.self)
            guard Array(text.utf8) == b else { continue }
            let piece = 1 + Int(rng.next() % 9)
            let whole = Self.parse(text, close: round % 2 == 0)
            let split = Self.parse(text, cuts: Array(stride(from: piece, to: b.count, by: piece)), close: round % 2 == 0)
            #expect(whole == split, "\(text.debugDescription) in pieces of \(piece)")
            if whole != split { return }
        }
    }
}
