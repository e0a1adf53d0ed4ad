import CicadaCore

/// One keep-alive connection of the fast transport and the request it carries now (HTTP/1.1
/// without pipelining: at most one). Pooled per worker and reused while the server keeps it.
final class FastConnection {
    let fd: Int32
    /// The worker's target generation it was opened for; a retarget retires it.
    let generation: Int
    var connected = false
    /// Whether it has carried a complete response: a request that dies on it before any
    /// response byte is then a dead keep-alive connection (never re-sent).
    var reused = false
    var busy = false
    /// What is registered in the epoll set (EPOLLIN / EPOLLOUT bits).
    var interest: UInt32 = 0

    // The request in flight.
    var out: [UInt8] = []
    var outOffset = 0
    var parser = HTTPResponseParser()
    var statIndex = 0
    /// The request's task (a reference: copying the ``TaskSpec`` per request cost more than
    /// parsing the response).
    var task: FastTask?
    var userSlot = -1
    var intendedNanos: UInt64 = 0
    var sentNanos: UInt64 = 0
    /// When the request times out (and, while connecting, the connect timeout).
    var deadlineNanos: UInt64 = .max
    var firstByteNanos: UInt64?
    var bytesIn: UInt64 = 0
    var bytesOut: UInt64 = 0
    var keepBody = false
    var checksNeedBody = false
    var measureStream = false
    var streamDialect = StreamTiming.Dialect.openAI
    /// Whether a stream keeps its text (a tokenizer counts it when the server sends no usage).
    var keepsStreamText = false
    /// The request's measurement phase and weighted-list model group (``RequestChoices``).
    var phase: MeasurementPhase = .measured
    var modelGroup = -1
    var splitGroup = -1
    var splitStepSlot = -1
    /// A `split:` run's member it is connected to (its pool); -1 for the run's target.
    var member = -1
    /// A conversation's turn (key -1: none) and the answer's text as it streams in.
    var turn = ChatTurn()
    var answer = ""
    var body: [UInt8] = []
    var sse: SSEParser?
    var timing: StreamTiming?

    init(fd: Int32, generation: Int) { self.fd = fd; self.generation = generation }

    /// Clears the request's state for the next one on this connection.
    func prepareForReuse() {
        body.removeAll(keepingCapacity: body.capacity <= 64 * 1024)
        sse = nil
        timing = nil
        firstByteNanos = nil
        bytesIn = 0
        bytesOut = 0
        busy = false
        outOffset = 0
        deadlineNanos = .max
        turn = ChatTurn()
        if !answer.isEmpty { answer = "" }
    }

    /// Takes a response's body bytes: counts them, feeds a stream's parser (timing each event
    /// at `now`) and keeps the first ``Transfer/bodyLimit`` bytes when checks need them.
    func takeBody(_ p: UnsafeRawBufferPointer, now: UInt64) {
        bytesIn &+= UInt64(p.count)
        if sse != nil {
            let dialect = streamDialect
            let capture = turn.key >= 0
            sse!.feed(p) { event in
                let c = dialect.classify(event)
                if capture, case .choices(let content, _, _, _) = c { answer += content }
                timing?.record(c, atNanos: now)
            }
        }
        if keepBody, body.count < Transfer.bodyLimit {
            let take = min(p.count, Transfer.bodyLimit - body.count)
            body.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[0..<take]))
        }
    }

    /// On the response head: an OpenAI or Anthropic kind answered with `text/event-stream` is
    /// timed as a stream (as ``Transfer/checkForEventStream()`` does for libcurl).
    func takeHead(_ h: HTTPResponseParser.Head) {
        guard measureStream, let ct = h.contentType, ct.lowercased().hasPrefix("text/event-stream") else { return }
        sse = SSEParser()
        timing = StreamTiming(sentNanos: sentNanos, dialect: streamDialect)
        timing?.keepsText = keepsStreamText
        keepBody = checksNeedBody
    }
}
