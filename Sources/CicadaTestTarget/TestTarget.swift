import Foundation
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import Synchronization

/// A local HTTP/1.1 target with a known service time and optional periodic stalls.
///
/// It is what the integration tests, the README's quickstart and the accuracy benchmarks aim
/// at: because its behaviour is known exactly, the latency a client *should* see can be
/// computed and compared with what Cicada reports. It is not the embedded inference engine.
///
/// Endpoints: `POST /predict` (`{"input": ...}` -> `{"output": ..., "served_ms": ...}`),
/// `POST /v1/completions` (OpenAI-style; with `"stream": true` an SSE stream whose first token
/// comes after `ttft` and each next one `interToken` later: the known truth for TTFT/TPOT tests),
/// `POST /v1/chat/completions` (the same, as chat deltas, each answer marked `[aN]`),
/// `GET /health`, `GET /status/{code}` (answers that status), `GET /count` (requests served),
/// anything else -> 404. Binds 127.0.0.1 unless told otherwise.
public final class TestTarget: Sendable {
    /// How the target behaves.
    public struct Config: Sendable {
        /// Time each request takes, from arrival (or the end of a stall) to response.
        public var serviceTime: Duration
        /// Every this often the whole server pauses...
        public var stallEvery: Duration?
        /// ...for this long: requests arriving in the pause are answered after it ends.
        public var stallFor: Duration
        public var host: String
        /// 0 picks a free port.
        public var port: Int
        /// `POST /v1/completions` streams: time to the first token...
        public var ttft: Duration
        /// ...and between tokens.
        public var interToken: Duration
        /// Send the `usage` chunk when the request asks for it.
        public var reportUsage: Bool
        /// Put an `error` object into the stream after this many tokens (then end it).
        public var streamErrorAfter: Int?
        /// A reasoning model: the first this many tokens of each stream are thinking, sent as
        /// chat chunks' `delta.reasoning_content` (the rest as `delta.content`), and the usage
        /// chunk reports them in `completion_tokens_details.reasoning_tokens`. 0: plain
        /// completions chunks.
        public var reasoningTokens = 0
        /// Keep the first this many requests ("METHOD URI BODY") for ``recordedRequests`` (tests
        /// that compare what two runs sent).
        public var recordRequests = 0
        /// Speak HTTP/2 over cleartext with prior knowledge (h2c, what `--http2` sends to an
        /// http:// URL) instead of HTTP/1.1.
        public var http2 = false
        /// Fail requests on purpose, in the plan's rotation (HTTP/1.1 only): every request is
        /// then answered by ``FaultHandler`` with raw bytes, and counted per fault.
        public var faults: FaultPlan?
        public init(serviceTime: Duration = .zero, stallEvery: Duration? = nil, stallFor: Duration = .zero, host: String = "127.0.0.1", port: Int = 0,
                    ttft: Duration = .milliseconds(20), interToken: Duration = .milliseconds(5), reportUsage: Bool = true, streamErrorAfter: Int? = nil,
                    recordRequests: Int = 0, http2: Bool = false, faults: FaultPlan? = nil) {
            self.recordRequests = recordRequests; self.http2 = http2; self.faults = faults
            self.serviceTime = serviceTime; self.stallEvery = stallEvery; self.stallFor = stallFor; self.host = host; self.port = port
            self.ttft = ttft; self.interToken = interToken; self.reportUsage = reportUsage; self.streamErrorAfter = streamErrorAfter
        }
    }

    public let config: Config
    private let group: MultiThreadedEventLoopGroup
    private let channel: Mutex<Channel?> = Mutex(nil)
    private let served = Atomic<Int>(0)
    fileprivate let connections = Atomic<Int>(0)
    fileprivate let http2Served = Atomic<Int>(0)
    private let recorded = Mutex<[String]>([])
    private let lateness = Mutex<[StreamLateness]>([])
    private let received = Atomic<Int>(0)
    private let perFault = Mutex<[Fault: Int]>([:])
    let startInstant = NIODeadline.now()

    public init(config: Config, threads: Int = 1) {
        self.config = config
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
    }

    /// Requests answered so far (all endpoints but `/count`).
    public var requestCount: Int { served.load(ordering: .relaxed) }

    /// Starts listening; returns the bound port.
    @discardableResult
    public func start() throws -> Int {
        let target = self
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { ch in
                target.connections.add(1, ordering: .relaxed)
                if let plan = target.config.faults {
                    // The initializer runs on the channel's event loop: add the handlers there.
                    return ch.eventLoop.makeCompletedFuture {
                        try ch.pipeline.syncOperations.addHandlers([ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)),
                                                                    FaultHandler(target: target, plan: plan)])
                    }
                }
                if target.config.http2 {
                    // One child channel per stream, each speaking HTTP/1-style parts to the handler.
                    return ch.configureHTTP2Pipeline(mode: .server) { stream in
                        stream.pipeline.addHandlers([HTTP2FramePayloadToHTTP1ServerCodec(), TargetHandler(target: target)])
                    }.map { _ in }
                }
                return ch.pipeline.configureHTTPServerPipeline().flatMap {
                    ch.pipeline.addHandler(TargetHandler(target: target))
                }
            }
        let ch = try bootstrap.bind(host: config.host, port: config.port).wait()
        channel.withLock { $0 = ch }
        return ch.localAddress?.port ?? config.port
    }

    /// The base URL, once started.
    public var baseURL: String {
        let port = channel.withLock { $0?.localAddress?.port } ?? config.port
        return "http://\(config.host):\(port)"
    }

    /// Stops listening and shuts the threads down.
    public func stop() {
        let ch = channel.withLock { c in let x = c; c = nil; return x }
        try? ch?.close().wait()
        try? group.syncShutdownGracefully()
    }

    func countServed() { served.add(1, ordering: .relaxed) }
    private let answers = Atomic<Int>(0)
    /// Numbers the chat answers (1, 2, ...).
    func nextAnswer() -> Int { answers.wrappingAdd(1, ordering: .relaxed).newValue }

    /// Requests read whole so far, with faults on (each counted before its fault is played):
    /// what a client's report is checked against.
    public var receivedCount: Int { received.load(ordering: .relaxed) }

    /// With faults on: how many requests got each fault.
    public var receivedByFault: [Fault: Int] { perFault.withLock { $0 } }

    /// Counts one received request; returns how many came before it.
    func countReceived() -> Int { received.wrappingAdd(1, ordering: .relaxed).oldValue }

    func countFault(_ f: Fault) { perFault.withLock { $0[f, default: 0] += 1 } }

    /// TCP connections accepted so far.
    public var connectionCount: Int { connections.load(ordering: .relaxed) }
    /// Requests that arrived over HTTP/2.
    public var http2RequestCount: Int { http2Served.load(ordering: .relaxed) }

    /// How late this server sent one stream's tokens against its own schedule (`ttft`, then
    /// `interToken` apart), counted from the moment it read the request: what a test compares
    /// a client's TTFT and TPOT with, so a server that falls behind on a busy machine is not
    /// taken for a client that measures wrong.
    public struct StreamLateness: Sendable {
        /// The first token's lateness.
        public var first: Duration
        /// The last token's lateness.
        public var last: Duration
        /// Tokens in the stream.
        public var tokens: Int
    }

    /// Every streamed answer's lateness so far (streams cut by `streamErrorAfter` are left out),
    /// in the order they ended.
    public var streamLateness: [StreamLateness] { lateness.withLock { $0 } }

    func recordLateness(_ l: StreamLateness) { lateness.withLock { $0.append(l) } }

    /// The requests kept so far (at most `config.recordRequests`), in arrival order.
    public var recordedRequests: [String] { recorded.withLock { $0 } }

    func record(_ request: String) {
        guard config.recordRequests > 0 else { return }
        recorded.withLock { if $0.count < config.recordRequests { $0.append(request) } }
    }

    /// How long to hold a request that arrives now: the rest of any stall, plus service time.
    func delay(at now: NIODeadline) -> TimeAmount {
        var wait = TimeAmount.nanoseconds(Int64(config.serviceTime.components.seconds) * 1_000_000_000 + config.serviceTime.components.attoseconds / 1_000_000_000)
        if let every = config.stallEvery, config.stallFor > .zero {
            let everyNanos = Int64(every.components.seconds) * 1_000_000_000 + every.components.attoseconds / 1_000_000_000
            let forNanos = Int64(config.stallFor.components.seconds) * 1_000_000_000 + config.stallFor.components.attoseconds / 1_000_000_000
            let since = (now - startInstant).nanoseconds
            let phase = since % everyNanos
            // The stall occupies the last `stallFor` of each period, so a run starts clean.
            let stallStart = everyNanos - forNanos
            if phase >= stallStart { wait = wait + .nanoseconds(everyNanos - phase) }
        }
        return wait
    }
}

final class TargetHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let target: TestTarget
    var head: HTTPRequestHead?
    var body = ByteBuffer()

    init(target: TestTarget) { self.target = target }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h; body.clear()
        case .body(var b): body.writeBuffer(&b)
        case .end:
            guard let h = head else { return }
            if h.version.major == 2 { target.http2Served.add(1, ordering: .relaxed) }
            target.record("\(h.method) \(h.uri) " + (body.getString(at: body.readerIndex, length: body.readableBytes) ?? ""))
            respond(context: context, head: h)
        }
    }

    /// An OpenAI-style completion paced by the configured TTFT and inter-token delay. Chat
    /// answers (`chat`) come as `delta.content` and begin with `[aN]`, N this answer's number
    /// on the target, so a test can tell which answer a later request carries back.
    func stream(context: ChannelHandlerContext, head: HTTPRequestHead, chat: Bool = false) {
        let text = body.getString(at: body.readerIndex, length: body.readableBytes) ?? ""
        func intField(_ name: String) -> Int? {
            guard let r = text.range(of: "\"\(name)\"") else { return nil }
            let rest = text[r.upperBound...].drop { $0 == ":" || $0 == " " }
            return Int(rest.prefix { $0.isNumber })
        }
        let tokens = max(1, intField("max_tokens") ?? 16)
        let streaming = text.replacingOccurrences(of: " ", with: "").contains("\"stream\":true")
        let usage = target.config.reportUsage && text.replacingOccurrences(of: " ", with: "").contains("\"include_usage\":true")
        let cfg = target.config
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        func nanos(_ d: Duration) -> Int64 { Int64(d.components.seconds) * 1_000_000_000 + d.components.attoseconds / 1_000_000_000 }
        let thinking = min(cfg.reasoningTokens, tokens)
        let details = cfg.reasoningTokens > 0 ? ",\"completion_tokens_details\":{\"reasoning_tokens\":\(thinking)}" : ""
        let usageJSON = "{\"prompt_tokens\":7,\"completion_tokens\":\(tokens),\"total_tokens\":\(7 + tokens)\(details)}"
        // A chat answer is marked on its first answer token ([aN]), after any reasoning tokens.
        let answerMark = chat ? "[a\(target.nextAnswer())]" : ""
        func piece(_ k: Int) -> String { (k == thinking ? answerMark : "") + " tok\(k)" }
        let chatChunks = chat || cfg.reasoningTokens > 0
        if !streaming {
            let json = chat
                ? "{\"id\":\"t\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"\(answerMark) ok\"},\"finish_reason\":\"length\"}],\"usage\":\(usageJSON)}"
                : "{\"id\":\"t\",\"object\":\"text_completion\",\"choices\":[{\"index\":0,\"text\":\"ok\",\"finish_reason\":\"length\"}],\"usage\":\(usageJSON)}"
            context.eventLoop.scheduleTask(in: .nanoseconds(nanos(cfg.ttft) + nanos(cfg.interToken) * Int64(tokens - 1))) {
                handler.value.write(bound.value, status: .ok, contentType: "application/json", text: json, keepAlive: head.isKeepAlive)
            }
            return
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/event-stream")
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
        func send(_ s: String) {
            let ctx = bound.value
            var buf = ctx.channel.allocator.buffer(capacity: s.utf8.count)
            buf.writeString(s)
            ctx.writeAndFlush(handler.value.wrapOutboundOut(.body(.byteBuffer(buf))), promise: nil)
        }
        func finish() {
            let ctx = bound.value
            let done = ctx.writeAndFlush(handler.value.wrapOutboundOut(.end(nil)))
            if !head.isKeepAlive { done.whenComplete { _ in bound.value.close(promise: nil) } }
        }
        let start = NIODeadline.now()
        let firstLate = NIOLoopBoundBox<Duration>(.zero, eventLoop: context.eventLoop)
        for k in 0..<tokens {
            let at = nanos(cfg.ttft) + nanos(cfg.interToken) * Int64(k)
            context.eventLoop.scheduleTask(in: .nanoseconds(at)) {
                let late = Duration.nanoseconds((NIODeadline.now() - start).nanoseconds - at)
                if k == 0 { firstLate.value = late }
                if let e = cfg.streamErrorAfter, k == e {
                    send("data: {\"error\":{\"message\":\"model crashed\",\"type\":\"server_error\",\"code\":500}}\n\n")
                    finish()
                    return
                }
                if let e = cfg.streamErrorAfter, k > e { return }
                let last = k == tokens - 1
                // Split each event across two writes to exercise chunk-boundary parsing.
                let reason = last ? "\"length\"" : "null"
                let choice = chatChunks ? "\"delta\":{\"\(k < thinking ? "reasoning_content" : "content")\":\"\(piece(k))\"}" : "\"text\":\"\(piece(k))\""
                let event = "data: {\"id\":\"t\",\"object\":\"\(chatChunks ? "chat.completion.chunk" : "text_completion")\",\"choices\":[{\"index\":0,\(choice),\"finish_reason\":\(reason)}]}\r\n\r\n"
                let cut = event.index(event.startIndex, offsetBy: event.count / 2)
                send(String(event[..<cut]))
                send(String(event[cut...]))
                if last {
                    handler.value.target.recordLateness(.init(first: firstLate.value, last: late, tokens: tokens))
                    if usage { send("data: {\"id\":\"t\",\"choices\":[],\"usage\":\(usageJSON)}\n\n") }
                    send(": keep-alive comment\n\ndata: [DONE]\n\n")
                    finish()
                }
            }
        }
    }

    func write(_ context: ChannelHandlerContext, status: HTTPResponseStatus, contentType: String, text: String, keepAlive: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(text.utf8.count))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        var buf = context.channel.allocator.buffer(capacity: text.utf8.count)
        buf.writeString(text)
        context.write(wrapOutboundOut(.body(.byteBuffer(buf))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func respond(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let path = head.uri.split(separator: "?").first.map(String.init) ?? head.uri
        var status = HTTPResponseStatus.ok
        var text = ""
        var delayed = true
        switch (head.method, path) {
        case (.POST, "/v1/completions"):
            target.countServed()
            return stream(context: context, head: head)
        case (.POST, "/v1/chat/completions"):
            target.countServed()
            return stream(context: context, head: head, chat: true)
        case (.GET, "/health"):
            text = "{\"status\":\"ok\"}"
        case (.GET, "/count"):
            text = "{\"count\":\(target.requestCount)}"
            delayed = false
        case (.POST, "/predict"):
            let input = body.getString(at: body.readerIndex, length: body.readableBytes) ?? ""
            if input.contains("\"input\"") {
                text = "{\"output\":\"ok\",\"input_bytes\":\(body.readableBytes)}"
            } else {
                status = .badRequest
                text = "{\"error\":\"missing field 'input'\"}"
            }
        case (_, let p) where p.hasPrefix("/status/"):
            let code = Int(p.dropFirst("/status/".count)) ?? 500
            status = HTTPResponseStatus(statusCode: code)
            text = "{\"status\":\(code)}"
        default:
            status = .notFound
            text = "{\"error\":\"not found\"}"
        }
        if delayed { target.countServed() }
        // HTTP/2 streams have no keep-alive header; the connection stays.
        let keepAlive = head.version.major >= 2 || head.isKeepAlive
        let version = head.version
        let finalText = text, finalStatus = status
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let send: @Sendable () -> Void = {
            let context = bound.value
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(finalText.utf8.count))
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: version, status: finalStatus, headers: headers))), promise: nil)
            var buf = context.channel.allocator.buffer(capacity: finalText.utf8.count)
            buf.writeString(finalText)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(buf))), promise: nil)
            let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
            if !keepAlive { done.whenComplete { _ in bound.value.close(promise: nil) } }
        }
        let wait = delayed ? target.delay(at: .now()) : .zero
        if wait > .zero {
            context.eventLoop.scheduleTask(in: wait, send)
        } else {
            send()
        }
    }
}
