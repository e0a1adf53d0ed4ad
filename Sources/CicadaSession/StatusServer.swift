import CicadaCore
import CicadaReport
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Serves a run's live figures over HTTP (`--status-port`): `GET /metrics` in the Prometheus
/// text format (``LiveMetrics``) and `GET /status` as a small JSON object. Binds 127.0.0.1
/// unless told otherwise. The figures are the latest snapshot the run handed over (once a
/// second), rendered when asked for.
public final class StatusServer: Sendable {
    struct State {
        var snapshot: Snapshot?
        var finished = false
    }
    let scenario: String
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let state = Mutex(State())
    private let channel = Mutex<Channel?>(nil)

    public init(scenario: String) { self.scenario = scenario }

    /// Starts listening; returns the bound port (0 picks a free one).
    public func start(host: String, port: Int) throws -> Int {
        let server = self
        let ch = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { ch in
                ch.pipeline.configureHTTPServerPipeline().flatMap { ch.pipeline.addHandler(StatusHandler(server: server)) }
            }
            .bind(host: host, port: port).wait()
        channel.withLock { $0 = ch }
        return ch.localAddress?.port ?? port
    }

    /// The run's latest figures.
    public func update(_ snapshot: Snapshot, finished: Bool = false) {
        state.withLock { $0.snapshot = snapshot; $0.finished = $0.finished || finished }
    }

    public func stop() {
        let ch = channel.withLock { c -> Channel? in defer { c = nil }; return c }
        try? ch?.close().wait()
        try? group.syncShutdownGracefully()
    }

    /// The answer to `path`: status, content type, body.
    func answer(_ path: String) -> (Int, String, String) {
        let (snap, finished) = state.withLock { ($0.snapshot, $0.finished) }
        switch path {
        case "/metrics":
            guard let snap else { return (503, "text/plain", "no figures yet: the run has not started\n") }
            return (200, "text/plain; version=0.0.4", LiveMetrics.prometheusText(snap, scenario: scenario))
        case "/status":
            guard let s = snap else { return (200, "application/json", "{\"scenario\":\(JSONText.quoted(scenario)),\"state\":\"starting\"}\n") }
            let t = s.total
            func ms(_ v: UInt64?) -> String { v.map { String(format: "%.3f", Double($0) / 1000) } ?? "null" }
            let qps = s.qps.map { String(format: "%.3f", $0) } ?? "null"
            return (200, "application/json", "{\"scenario\":\(JSONText.quoted(scenario)),\"state\":\"\(finished ? "finished" : "running")\",\"elapsed_s\":\(String(format: "%.3f", s.elapsed.seconds)),\"users\":\(s.gauges.users),\"in_flight\":\(s.gauges.inFlight),\"requests\":\(t.requests),\"failures\":\(t.failures),\"qps\":\(qps),\"p50_ms\":\(ms(t.corrected.percentile(50))),\"p99_ms\":\(ms(t.corrected.percentile(99)))}\n")
        default:
            return (404, "text/plain", "not found: GET /metrics or /status\n")
        }
    }
}

final class StatusHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let server: StatusServer
    var head: HTTPRequestHead?

    init(server: StatusServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let h = head else { return }
            head = nil
            let path = String(h.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            let (status, type, body) = h.method == .GET ? server.answer(path) : (405, "text/plain", "GET only\n")
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: type)
            headers.add(name: "Content-Length", value: String(body.utf8.count))
            if !h.isKeepAlive { headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: HTTPResponseStatus(statusCode: status), headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !h.isKeepAlive {
                let ctx = NIOLoopBound(context, eventLoop: context.eventLoop)
                done.whenComplete { _ in ctx.value.close(promise: nil) }
            }
        }
    }
}
