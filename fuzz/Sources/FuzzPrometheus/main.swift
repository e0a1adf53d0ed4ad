import CicadaTelemetry
import FuzzDriver

/// Prometheus text exposition: any bytes give an exposition or a parse error (and the known
/// families read what parsed), never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPrometheus(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data = input else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let e = try? PrometheusText.parse(bytes: bytes) {
        _ = KnownFamilies.reading(from: e, timeNanos: 1)
    }
    return 0
}

runFuzzer(fuzzPrometheus)
