import CicadaEngineServer
import CicadaTelemetry
import CicadaTestTarget
import Synchronization

/// What a session started and must stop: embedded engines, the local test target, pollers.
final class Servers: Sendable {
    private let engines = Mutex<[EngineServer]>([])
    private let targets = Mutex<[TestTarget]>([])
    private let pollers = Mutex<[TelemetryPoller]>([])

    /// Builds and starts an engine: a bad configuration is a usage error after `configProblem`,
    /// a failed start a tool failure after `startProblem`.
    func startEngine(configProblem: String, startProblem: String, _ config: () throws -> EngineConfig) throws(SessionError) -> EngineServer {
        let server: EngineServer
        do { server = try EngineServer(config: try config()) } catch { throw .usage(configProblem + "\(error)") }
        do { try server.start() } catch { throw .tool(startProblem + "\(error)") }
        adopt(server)
        return server
    }

    /// Starts the local test target on 127.0.0.1 with one event-loop thread.
    func startTestTarget(serviceTime: Duration) throws(SessionError) -> TestTarget {
        let t = TestTarget(config: .init(serviceTime: serviceTime), threads: 1)
        do { try t.start() } catch { throw .tool("cannot start the local test target: \(error)") }
        targets.withLock { $0.append(t) }
        return t
    }

    /// Stops `server` with the rest (an engine started from a live view).
    func adopt(_ server: EngineServer) {
        engines.withLock { list in if !list.contains(where: { $0 === server }) { list.append(server) } }
    }

    func adopt(_ poller: TelemetryPoller) { pollers.withLock { $0.append(poller) } }

    /// Stops pollers, then the test target, then the engines; each once.
    func stop() {
        pollers.withLock { p in defer { p = [] }; return p }.forEach { $0.stop() }
        targets.withLock { t in defer { t = [] }; return t }.forEach { $0.stop() }
        engines.withLock { e in defer { e = [] }; return e }.forEach { $0.stop() }
    }
}
