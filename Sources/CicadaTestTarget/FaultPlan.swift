import Foundation

/// One way a server can fail a request, as the fault-injecting test target plays it.
///
/// Each fault is what a real server under stress does on the wire; the comment on each case
/// says what the target writes after it has read the whole request.
public enum Fault: String, CaseIterable, Sendable, Hashable {
    /// A correct `200` with a small JSON body (keep-alive).
    case ok
    /// Half a status line (`HTTP/1.1 2`), then a TCP reset.
    case resetBeforeStatus = "reset_before_status"
    /// Full headers announcing 64 body bytes, 16 of them, then a TCP reset.
    case resetMidBody = "reset_mid_body"
    /// Full headers announcing 64 body bytes, then an orderly close (FIN), no body.
    case closeAfterHeaders = "close_after_headers"
    /// A chunked response with one chunk and no terminating chunk, then a close.
    case truncatedChunked = "truncated_chunked"
    /// `Content-Length: 64` with a 20-byte body, then a close.
    case wrongLength = "wrong_length"
    /// Bytes that are not HTTP, then a close.
    case garbage
    /// Never answers: the client's request timeout has to end it.
    case stall
    /// Headers for 20 body bytes, then one byte every 100 ms (a client with a shorter request
    /// timeout gives up first).
    case trickle
    /// A correct `200` with a 100 MiB body, written 1 MiB at a time as the client reads it (the
    /// client must count it, not keep it).
    case bigBody = "big_body"
    /// `429 Too Many Requests` with `Retry-After: 1`.
    case rateLimited = "429"
    /// `503 Service Unavailable` with `Retry-After: 1`.
    case unavailable = "503"
    // Event streams: each is a `200` with `Content-Type: text/event-stream`, chunked (one HTTP
    // chunk per event, then the last chunk `0`), keep-alive unless the request asked to close,
    // whatever the request was. The events are ``sseEvents``, exactly as written.
    /// A valid OpenAI completions stream, the control for the invalid ones: three chunks (the
    /// last with `finish_reason: "length"`), then `data: [DONE]`.
    case sseOK = "sse_ok"
    /// Events with no `data:` field: `event: message` + `id: 1`; `event: message` + `id: 2` + a
    /// misspelt `dat: {...}` chunk; a wrong-case `DATA: [DONE]`. A client dispatches nothing.
    case sseNoData = "sse_no_data"
    /// One valid completions chunk, then a `data:` event whose JSON is cut off mid-string, then
    /// `data: [DONE]`.
    case sseBrokenJSON = "sse_broken_json"
    /// Three valid completions chunks (the last with `finish_reason: "length"`), then the last
    /// HTTP chunk: no `data: [DONE]`.
    case sseNoDone = "sse_no_done"
    /// One valid completions chunk, then vLLM's in-stream error,
    /// `data: {"error":{"message":"EngineCore encountered an issue","type":"server_error","code":500}}`,
    /// then `data: [DONE]`.
    case sseErrorEvent = "sse_error_event"
    /// One valid completions chunk, then an error as an event type: `event: error` with
    /// `data: {"message":"Overloaded","type":"server_error","code":503}` (no `error` key), and
    /// no `data: [DONE]`.
    case sseErrorEventTyped = "sse_error_event_typed"

    /// One valid OpenAI completions chunk, as the `sse_*` faults write it.
    public static func sseChunk(_ k: Int, finishReason: String? = nil) -> String {
        "data: {\"id\":\"cmpl-fault\",\"object\":\"text_completion\",\"created\":0,\"model\":\"fault\",\"choices\":[{\"index\":0,\"text\":\" tok\(k)\",\"finish_reason\":\(finishReason.map { "\"\($0)\"" } ?? "null")}]}\n\n"
    }

    /// The data of ``sseBrokenJSON``'s second event: a chunk cut off inside its text.
    public static let brokenJSONData = "{\"id\":\"cmpl-fault\",\"object\":\"text_completion\",\"created\":0,\"model\":\"fault\",\"choices\":[{\"index\":0,\"text\":\" to"

    /// The SSE events an `sse_*` fault writes, in order, each as one HTTP chunk; nil for the
    /// faults that are not event streams.
    public var sseEvents: [String]? {
        switch self {
        case .sseOK:
            return [Self.sseChunk(0), Self.sseChunk(1), Self.sseChunk(2, finishReason: "length"), "data: [DONE]\n\n"]
        case .sseNoData:
            return ["event: message\nid: 1\n\n",
                    "event: message\nid: 2\ndat: {\"choices\":[{\"index\":0,\"text\":\" tok0\",\"finish_reason\":null}]}\n\n",
                    "DATA: [DONE]\n\n"]
        case .sseBrokenJSON:
            return [Self.sseChunk(0), "data: \(Self.brokenJSONData)\n\n", "data: [DONE]\n\n"]
        case .sseNoDone:
            return [Self.sseChunk(0), Self.sseChunk(1), Self.sseChunk(2, finishReason: "length")]
        case .sseErrorEvent:
            return [Self.sseChunk(0),
                    "data: {\"error\":{\"message\":\"EngineCore encountered an issue\",\"type\":\"server_error\",\"code\":500}}\n\n",
                    "data: [DONE]\n\n"]
        case .sseErrorEventTyped:
            return [Self.sseChunk(0), "event: error\ndata: {\"message\":\"Overloaded\",\"type\":\"server_error\",\"code\":503}\n\n"]
        default:
            return nil
        }
    }
}

/// Which fault each request gets: faults with weights, dealt in a fixed rotation by the order
/// in which requests arrive, so a test knows exactly how many of each a run should see.
///
/// `reset_before_status:1,ok:1` alternates; `stall` alone stalls every request. The rotation
/// is smooth (weighted round-robin): with weights 3 and 1 the order is a a b a, not a a a b.
public struct FaultPlan: Sendable {
    /// The faults and their weights, in the order given.
    public let entries: [(fault: Fault, weight: Int)]
    /// One full turn of the rotation.
    let cycle: [Fault]

    /// A plan from faults and positive weights.
    public init(_ entries: [(fault: Fault, weight: Int)]) {
        self.entries = entries.filter { $0.weight > 0 }
        // Smooth weighted round-robin (nginx's upstream rule): deterministic and evenly spread.
        let total = self.entries.reduce(0) { $0 + $1.weight }
        var current = Array(repeating: 0, count: self.entries.count)
        var cycle: [Fault] = []
        for _ in 0..<total {
            var best = 0
            for i in self.entries.indices {
                current[i] += self.entries[i].weight
                if current[i] > current[best] { best = i }
            }
            current[best] -= total
            cycle.append(self.entries[best].fault)
        }
        self.cycle = cycle
    }

    /// The size of ``Fault/bigBody``'s body.
    public static let bigBodyBytes = 100 << 20

    /// Parses `fault[:weight],...` (weight 1 when left out), e.g. `reset_before_status:1,ok:1`.
    /// The error names the part that is wrong and lists the faults.
    public init(parsing text: String) throws(FaultPlanError) {
        var entries: [(fault: Fault, weight: Int)] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            let bits = part.split(separator: ":", maxSplits: 1).map(String.init)
            guard let fault = Fault(rawValue: bits[0]) else { throw FaultPlanError(message: "unknown fault '\(bits[0])' (one of \(Fault.allCases.map(\.rawValue).joined(separator: ", ")))") }
            var weight = 1
            if bits.count == 2 {
                guard let w = Int(bits[1]), w > 0, w <= 1000 else { throw FaultPlanError(message: "weight of '\(bits[0])' must be a whole number 1..1000, not '\(bits[1])'") }
                weight = w
            }
            entries.append((fault, weight))
        }
        guard !entries.isEmpty else { throw FaultPlanError(message: "no fault given (one of \(Fault.allCases.map(\.rawValue).joined(separator: ", ")))") }
        self.init(entries)
    }

    /// The fault for the `n`th request the target received (0-based).
    public func fault(forRequest n: Int) -> Fault { cycle.isEmpty ? .ok : cycle[n % cycle.count] }
}

/// A fault list that could not be read.
public struct FaultPlanError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
