import ArgumentParser
import CicadaCore
import CicadaSession
import CicadaTestTarget
import Foundation

/// `cicada target`: serves the local test target (known service time, optional stalls) so other
/// tools (wrk, Locust, curl) can be compared against Cicada on the same server.
struct Target: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a local HTTP test target with a known service time and optional periodic stalls.")

    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port (0 picks a free one).") var port = 8000
    @Option(help: "Service time per request, e.g. 2ms.") var latency = "0ms"
    @Option(help: "Pause the whole server this often, e.g. 5s.") var stallEvery: String?
    @Option(help: "Length of each pause, e.g. 500ms.") var stallFor = "0ms"
    @Option(help: "Event-loop threads.") var threads = 1
    @Option(help: "Exit after this long (default: until SIGINT/SIGTERM/SIGHUP).") var duration: String?
    @Flag(help: "Speak HTTP/2 over cleartext with prior knowledge (h2c) instead of HTTP/1.1.") var http2 = false
    @Option(help: ArgumentHelp("Fail requests on purpose, in rotation: fault[:weight],... (HTTP/1.1).",
                               discussion: "Faults: \(Fault.allCases.map(\.rawValue).joined(separator: ", ")). E.g. reset_before_status:1,ok:1 alternates. The sse_ faults answer with a 200 text/event-stream (sse_ok a valid OpenAI stream, the others broken on purpose; RELIABILITY.md).")) var faults: String?

    func run() throws {
        guard let service = DurationText.parse(latency, defaultUnit: .milliseconds) else { throw ValidationError("--latency '\(latency)' is not a duration") }
        let every = try parseLimit(stallEvery, flag: "--stall-every")
        guard let stall = DurationText.parse(stallFor, defaultUnit: .milliseconds) else { throw ValidationError("--stall-for '\(stallFor)' is not a duration") }
        let limit = try parseLimit(duration)
        var plan: FaultPlan?
        if let faults {
            do { plan = try FaultPlan(parsing: faults) } catch { throw ValidationError("--faults: \(error.message)") }
        }
        if plan != nil && http2 { throw ValidationError("--faults plays HTTP/1.1 faults; it cannot be combined with --http2") }
        installStopSignalHandlers()
        let target = TestTarget(config: .init(serviceTime: service, stallEvery: every, stallFor: stall, host: host, port: port, http2: http2, faults: plan), threads: threads)
        do { try target.start() } catch { throw SessionError.tool("cannot listen on \(host):\(port): \(error)") }
        printError("cicada test target listening on \(target.baseURL)\(http2 ? " (HTTP/2, prior knowledge)" : "")\(plan != nil ? " with faults \(faults!)" : "") (service time \(DurationText.format(service))\(every.map { ", stall \(DurationText.format(stall)) every \(DurationText.format($0))" } ?? ""))")
        waitForStop(limit: limit)
        target.stop()
        if plan != nil {
            let byFault = target.receivedByFault.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }
            printError("received \(target.receivedCount) requests (\(byFault.joined(separator: ", ")))")
        } else {
            printError("served \(target.requestCount) requests")
        }
    }
}
