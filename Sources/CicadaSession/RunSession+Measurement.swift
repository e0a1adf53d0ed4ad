import CicadaCore
import CicadaScenario
import Foundation

/// The command line's `--warmup`, `--cooldown`, `--telemetry` and `--requests-out` applied to
/// the scenario and checked before any load.
extension RunSession {
    static func applyMeasurementFlags(_ request: SessionRequest, to scenario: inout Scenario) throws(SessionError) {
        if let w = request.warmup { scenario.measurement.warmup = w }
        if let c = request.cooldown { scenario.measurement.cooldown = c }
        if let why = scenario.measurement.problem(duration: scenario.load.duration) {
            throw .usage("error: --warmup/--cooldown: \(why)")
        }
        for url in request.telemetryURLs {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw .usage("error: --telemetry '\(url)' is not an http:// URL (e.g. http://127.0.0.1:9400/metrics)")
            }
            if !scenario.telemetry.prometheus.contains(url) { scenario.telemetry.prometheus.append(url) }
        }
        if request.requestsOut != nil {
            guard request.requestsSample > 0, request.requestsSample <= 1 else {
                throw .usage("error: --requests-sample must be a fraction in (0, 1], e.g. 0.1")
            }
        } else if request.requestsSample != 1 {
            throw .usage("error: --requests-sample needs --requests-out FILE.jsonl")
        }
        if let path = request.requestsOut, let why = ReportRequest.problem(writing: path) {
            throw .usage("error: --requests-out: cannot write \(path): \(why)")
        }
    }
}
