import CicadaEngine
import CicadaEngineServer
import CicadaScenario
import Foundation
import Testing

/// One HTTP/1.1 request on its own connection, written at once and read later, so a test can
/// put several requests into the engine at the same instant (URLSession queues its own).
final class RawRequest {
    private let fd: Int32
    private var closed = false

    init(port: Int, path: String = "/predict", body: String) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let ok = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard ok else { Glibc.close(fd); throw POSIXError(.ECONNREFUSED) }
        var tv = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let text = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { Glibc.close(fd); throw POSIXError(.EPIPE) }
            sent += n
        }
    }

    /// Reads the whole response (headers, then Content-Length bytes of body).
    func reply() throws -> HTTPReply {
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        func headerEnd() -> Int? {
            guard data.count >= 4 else { return nil }
            for i in 0...(data.count - 4) where data[i] == 13 && data[i + 1] == 10 && data[i + 2] == 13 && data[i + 3] == 10 { return i }
            return nil
        }
        while true {
            if let end = headerEnd() {
                let head = String(decoding: data[..<end], as: UTF8.self).components(separatedBy: "\r\n")
                var headers: [String: String] = [:]
                for line in head.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                let length = Int(headers["content-length"] ?? "0") ?? 0
                if data.count - (end + 4) >= length {
                    let status = Int(head.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
                    return HTTPReply(status: status, body: String(decoding: data[(end + 4)..<(end + 4 + length)], as: UTF8.self), headers: headers)
                }
            }
            let n = recv(fd, &buf, buf.count, 0)
            guard n > 0 else { throw POSIXError(.ECONNRESET) }
            data += buf[0..<n]
        }
    }

    func close() {
        if !closed { Glibc.close(fd) }
        closed = true
    }
    deinit { close() }
}

/// Waits (polling, up to `seconds`) until `condition` holds; whether it did.
func eventually(_ seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// The engine past its bounds answers 503 with `Retry-After` at once, never holds more than its
/// bounds, withdraws requests whose clients left, and serves normally once the load is gone.
/// Behaviour, not speed: each request costs a known modelled time (A10 / deepseek-llm-7b, one
/// instance, no batching), long enough that every burst below arrives while the first runs.
@Suite(.serialized) struct EngineOverloadTests {
    static func config(outputTokens: Int, maxInFlight: Int = 4096, maxQueueSize: Int = 0) -> EngineConfig {
        var batching = BatcherConfig.noBatching
        batching.maxQueueSize = maxQueueSize
        return EngineConfig(gpu: "A10", model: "deepseek-llm-7b", batching: batching, cacheEntries: 0,
                            predictOutputTokens: outputTokens, maxInFlight: maxInFlight)
    }

    static func port(_ e: EngineServer) -> Int { Int(e.baseURL.split(separator: ":").last ?? "") ?? 0 }

    /// `n` requests written back to back, then every reply read.
    static func burst(_ e: EngineServer, _ n: Int) throws -> [HTTPReply] {
        let requests = try (0..<n).map { try RawRequest(port: port(e), body: "{\"input\": \"burst \($0)\"}") }
        return try requests.map { try $0.reply() }
    }

    @Test func pastMaxInFlightItAnswers503WithRetryAfterThenServesAgain() throws {
        // ~0.5 s of modelled time per request (16 output tokens); 2 may be held at once.
        try withEngine(Self.config(outputTokens: 16, maxInFlight: 2)) { e in
            let replies = try Self.burst(e, 8)
            let ok = replies.filter { $0.status == 200 }, refused = replies.filter { $0.status == 503 }
            #expect(ok.count + refused.count == 8, "statuses: \(replies.map(\.status))")
            // One executing and one queued are both held: a third is refused, not queued.
            #expect(ok.count == 2, "statuses: \(replies.map(\.status))")
            #expect(refused.count == 6)
            for r in refused {
                #expect(r.headers["retry-after"] == "1")
                #expect(r.body.contains("engine overloaded"))
            }
            #expect(e.stats.inFlightPeak == 2)
            #expect(e.stats.requestsByOutcome["overload"] == 6)
            #expect(eventually { e.stats.inFlight == 0 }, "every held request was released")
            // The load is gone: served again, and the burst left nothing behind.
            let after = try http("POST", e.baseURL + "/predict", body: #"{"input": "after the burst"}"#)
            #expect(after.status == 200)
            let m = try http("GET", e.baseURL + "/metrics").body
            #expect(m.contains("cicada_engine_requests_in_flight_max 2\n"))
            #expect(m.contains("cicada_engine_requests_in_flight_limit 2\n"))
            #expect(m.contains("cicada_engine_request_duration_seconds_count{outcome=\"success\"} 3\n"))
            #expect(m.contains("cicada_engine_request_duration_seconds_count{outcome=\"failure\"} 6\n"))
        }
    }

    @Test func pastMaxQueueSizeItAnswers503WithRetryAfterAndTheQueueStaysWithinIt() throws {
        try withEngine(Self.config(outputTokens: 16, maxQueueSize: 2)) { e in
            let replies = try Self.burst(e, 8)
            // One executing, two queued; the other five refused at the queue's bound.
            #expect(replies.filter { $0.status == 200 }.count == 3, "replies: \(replies.map { "\($0.status) \($0.headers) \($0.body)" })")
            let refused = replies.filter { $0.status == 503 }
            #expect(refused.count == 5, "replies: \(replies.map { "\($0.status) \($0.headers) \($0.body)" })")
            for r in refused {
                #expect(r.headers["retry-after"] == "1", "\(r)")
                #expect(r.body.contains("Exceeds maximum queue size"))
            }
            #expect(e.stats.queuePeak == 2)
            #expect(try http("POST", e.baseURL + "/predict", body: #"{"input": "after"}"#).status == 200)
            let m = try http("GET", e.baseURL + "/metrics").body
            #expect(m.contains("cicada_engine_queue_size_max 2\n") && m.contains("cicada_engine_queue_size_limit 2\n"))
        }
    }

    @Test func aRequestWhoseClientLeftIsWithdrawnFromTheQueueAndNeverComputed() throws {
        // ~1.5 s per request (48 output tokens): A runs while B and C wait; B's client leaves.
        try withEngine(Self.config(outputTokens: 48)) { e in
            let a = try RawRequest(port: Self.port(e), body: #"{"input": "a"}"#)
            #expect(eventually { e.stats.executing == 1 })
            let b = try RawRequest(port: Self.port(e), body: #"{"input": "b"}"#)
            let c = try RawRequest(port: Self.port(e), body: #"{"input": "c"}"#)
            #expect(eventually { e.stats.queueSize == 2 })
            b.close()
            #expect(eventually { e.stats.requestsByOutcome["cancelled"] == 1 })
            #expect(e.stats.queueSize == 1)
            #expect(try a.reply().status == 200)
            #expect(try c.reply().status == 200)
            #expect(e.stats.executions == 2, "B was never computed")
            #expect(eventually { e.stats.inFlight == 0 })
        }
    }

    @Test func maxInFlightIsReadFromTheEngineConfiguration() throws {
        let doc = try ScenarioReader().parseDocument("""
        target: embedded
        engine: {gpu: A10, max_in_flight: 64}
        tasks: [{name: p, path: /predict, json: {input: x}}]
        """, file: "e.yaml")
        #expect(doc.engine?.maxInFlight == 64)
        #expect(EngineConfig().maxInFlight == 4096)
        #expect(throws: ScenarioErrors.self) {
            try ScenarioReader().parseDocument("target: embedded\nengine: {max_in_flight: 0}\ntasks: [{name: p, path: /x}]", file: "e.yaml")
        }
    }
}
