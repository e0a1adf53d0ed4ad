import CFuzz
import CicadaCore
#if canImport(Glibc)
import Glibc
#endif

/// Response bodies: the JSON parser and the response checks over any bytes (deep nesting,
/// broken escapes, huge numbers): a verdict, never a crash.
func fuzzJSON(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data = input else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = JSONValue.parse(bytes)
    for check in checks { _ = check.failure(status: 200, body: bytes) }
    return 0
}

let checks: [Check] = [
    .status(Set(200..<300)),
    .jsonExists(JSONPath("choices.0.text")!),
    .jsonEquals(JSONPath("status")!, .string("ok")),
    .contains("error"),
]

/// The entry libFuzzer's own `main` calls, when the linker takes that one.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 { fuzzJSON(data, size) }

// libFuzzer runs the loop (flags as for any libFuzzer binary: corpus folders, -max_total_time, ...).
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzzJSON(data, size) }))
