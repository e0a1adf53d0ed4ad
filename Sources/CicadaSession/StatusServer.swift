import CicadaCore
import CicadaEngine
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
///
/// With ``Controls`` attached (a single sharded or plain run) it also serves `GET /live`
/// (``ShardLiveState``, every histogram whole, for `cicada dash --shards`) and takes
/// `POST /control` (``ShardControlCommand``), applied to the run's ``RunControl`` as the run's
/// own dashboard keys are, and noted in the run's events. `/control` answers loopback clients
/// only unless a token is set; with one, the bearer token from anyone (the rule of the
/// engine's `/admin/batching`, ``EngineRequest/adminRefusal(remoteIP:authorization:token:)``).
public final class StatusServer: Sendable {
    struct State {
        var snapshot: Snapshot?
        var finished = false
    }
    /// What `/live` and `/control` need from the run.
    public struct Controls: Sendable {
        /// The run's shard (0 of 1 for a plain run).
        public var shard: ShardSpec
        /// Open model (rate commands) rather than closed (user commands).
        public var isOpenModel: Bool
        /// The knobs the commands turn.
        public var control: RunControl
        /// Records a line in the run's events (`LoadRun.note(kind:detail:)`).
        public var note: @Sendable (String) -> Void
        /// The bearer token `/control` asks for; nil: loopback clients only.
        public var token: String?
        /// The run's thresholds, sent in `/live` so `cicada dash` judges them on the merged shards.
        public var thresholds: [ThresholdSpec] = []
        /// The figures of the embedded engine the run's load goes to, read when `/live` is asked
        /// for; nil when there is none.
        public var engine: (@Sendable () -> ShardLiveState.EngineFigures?)?
        public init(shard: ShardSpec, isOpenModel: Bool, control: RunControl, token: String?, note: @escaping @Sendable (String) -> Void) {
            self.shard = shard; self.isOpenModel = isOpenModel; self.control = control; self.token = token; self.note = note
        }
    }
    let scenario: String
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let state = Mutex(State())
    private let channel = Mutex<Channel?>(nil)
    private let controls = Mutex<Controls?>(nil)

    public init(scenario: String) { self.scenario = scenario }

    /// Turns on `/live` and `/control` for `run`.
    public func attach(_ c: Controls) { controls.withLock { $0 = c } }

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
        case "/live":
            guard let c = controls.withLock({ $0 }) else { return (404, "text/plain", "not found: this run serves no /live state\n") }
            guard let snap else { return (503, "text/plain", "no figures yet: the run has not started\n") }
            var live = ShardLiveState(snapshot: snap, scenario: scenario, shard: c.shard, finished: finished, isOpenModel: c.isOpenModel,
                                      paused: c.control.paused, rateScale: c.control.rateScale, userOffset: c.control.userOffset,
                                      thresholds: c.thresholds)
            live.engine = c.engine?()
            return (200, "application/json", live.json())
        case "/control":
            return (405, "text/plain", "POST /control with a JSON command, e.g. {\"action\": \"pause\"}\n")
        default:
            return (404, "text/plain", "not found: GET /metrics, /status or /live, POST /control\n")
        }
    }

    /// The answer to `POST /control` from `remoteIP` with `body`: the command carried out and
    /// noted in the run's events (200), or why not: 403/401 (the loopback-or-token rule), 400
    /// (a body that is no command, with what is wrong), 409 (a command for the other load
    /// model, or the run has finished), 404 (no controls attached).
    func control(remoteIP: String?, authorization: String?, body: [UInt8]) -> (Int, String, String) {
        func fail(_ status: Int, _ message: String) -> (Int, String, String) {
            (status, "application/json", "{\"error\":\(JSONText.quoted(message))}\n")
        }
        guard let c = controls.withLock({ $0 }) else { return fail(404, "this run takes no /control commands") }
        if let refusal = EngineRequest.adminRefusal(remoteIP: remoteIP, authorization: authorization, token: c.token) {
            return fail(refusal.status, refusal.message.replacingOccurrences(of: "the admin API", with: "/control")
                .replacingOccurrences(of: "set an admin token", with: "set --status-token-env"))
        }
        let command: ShardControlCommand
        do { command = try ShardControlCommand.parse(body) } catch { return fail(400, error.message) }
        if state.withLock({ $0.finished }) { return fail(409, "the run has finished") }
        let done: String
        do { done = try command.apply(to: c.control, isOpenModel: c.isOpenModel) } catch { return fail(409, error.message) }
        c.note("control from \(remoteIP ?? "?"): \(done)")
        return (200, "application/json", "{\"status\":\"ok\",\"shard\":\(c.shard.index),\"done\":\(JSONText.quoted(done))}\n")
    }
}

final class StatusHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let server: StatusServer
    var head: HTTPRequestHead?
    var body: [UInt8] = []
    /// The request's body passed ``bodyLimit``.
    var oversized = false
    /// Control bodies are a few dozen bytes; anything much larger is not one.
    static let bodyLimit = 64 << 10

    init(server: StatusServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h; body = []; oversized = false
        case .body(var b):
            // Past the limit the whole body is refused (413), never cut or spliced.
            if oversized || body.count + b.readableBytes > Self.bodyLimit { oversized = true; body = [] }
            else { body += b.readBytes(length: b.readableBytes) ?? [] }
        case .end:
            guard let h = head else { return }
            head = nil
            let path = String(h.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            let (status, type, body): (Int, String, String)
            switch (h.method, path) {
            case (.POST, "/control") where oversized:
                (status, type, body) = (413, "text/plain; charset=utf-8", "control body over \(Self.bodyLimit) bytes\n")
            case (.POST, "/control"):
                (status, type, body) = server.control(remoteIP: context.channel.remoteAddress?.ipAddress,
                                                      authorization: h.headers.first(name: "authorization"), body: self.body)
            case (.GET, _): (status, type, body) = server.answer(path)
            default: (status, type, body) = (405, "text/plain", "GET /metrics, /status, /live; POST /control\n")
            }
            self.body = []
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
