import CicadaCore
import FuzzDriver

/// Response bodies: the JSON parser and the response checks over any bytes (deep nesting,
/// broken escapes, huge numbers): a verdict, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data = input else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = JSONValue.parse(bytes)
    for check in checks { _ = check.failure(status: 200, body: bytes) }
    return 0
}

/// The checks run on every input (set before `runFuzzer` starts the loop).
let checks: [Check] = [
    .status(Set(200..<300)),
    .jsonExists(JSONPath("choices.0.text")!),
    .jsonEquals(JSONPath("status")!, .string("ok")),
    .contains("error"),
]

runFuzzer(fuzzJSON)
