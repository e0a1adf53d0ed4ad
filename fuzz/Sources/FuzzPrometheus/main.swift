import CFuzz
import CicadaTelemetry
#if canImport(Glibc)
import Glibc
#endif

/// Prometheus text exposition: any bytes give an exposition or a parse error (and the known
/// families read what parsed), never a crash.
func fuzzPrometheus(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data = input else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let e = try? PrometheusText.parse(bytes: bytes) {
        _ = KnownFamilies.reading(from: e, timeNanos: 1)
    }
    return 0
}

/// The entry libFuzzer's own `main` calls, when the linker takes that one.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 { fuzzPrometheus(data, size) }

// libFuzzer runs the loop (flags as for any libFuzzer binary: corpus folders, -max_total_time, ...).
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzzPrometheus(data, size) }))
