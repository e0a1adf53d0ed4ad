import CicadaCore
import CicadaReport
import FuzzDriver

/// The readers of JSON reports: `cicada report RUN.json --html` (``HTMLReport/render(json:)``,
/// `cicada.report/v1`, `cicada.compare/v1`, `cicada.sweep/v1`) and `cicada diff BASE NEW`
/// (``RunDiff``, with bounds on p99, error rate and req/s). Any text gives a page or an error
/// naming what is wrong, never a trap. The first byte chooses: even, the HTML page; odd, the
/// diff of the report against itself and against a copy with its numbers' digits shifted.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReport(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data = input, size > 0 else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    if data[0] % 2 == 0 {
        _ = try? HTMLReport.render(json: text)
    } else {
        if let d = try? RunDiff(base: text, new: text, bounds: bounds) { _ = d.text(plain: true) }
        // The same report with every 7 made a 9: figures move, the structure stays. (Byte by
        // byte: a map over Characters was a fifth of this target's time under perf.)
        let shifted = UnsafeBufferPointer(start: data + 1, count: size - 1).map { $0 == UInt8(ascii: "7") ? UInt8(ascii: "9") : $0 }
        let other = String(decoding: shifted, as: UTF8.self)
        if let d = try? RunDiff(base: text, new: other, bounds: bounds) { _ = d.text(plain: false) }
    }
    return 0
}

/// The bounds `cicada diff` is given (set before `runFuzzer` starts the loop).
let bounds: [RegressionBound] = ["p99+10%", "error_rate+1", "qps-5%", "ttft.p95+20ms"].compactMap { try? RegressionBound(parsing: $0) }

runFuzzer(fuzzReport)
