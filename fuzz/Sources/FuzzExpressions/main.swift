import CFuzz
import CicadaCore
#if canImport(Glibc)
import Glibc
#endif

/// The small languages in a scenario: threshold expressions, duration text and body templates
/// (parsed and rendered): an error message, never a crash.
func fuzzExpressions(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data = input else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? Threshold(ThresholdSpec(text))
    _ = DurationText.parse(text)
    _ = DurationText.parse(text, defaultUnit: .milliseconds)
    for escaping in [Template.Escaping.none, .jsonString] {
        if let t = try? Template(parsing: text, escaping: escaping) {
            var rng = SeededRandom(seed: 1)
            _ = t.render(context: .init(user: 3, seq: 7, prompts: ["a", "b\"c"]), rng: &rng)
        }
    }
    return 0
}

/// The entry libFuzzer's own `main` calls, when the linker takes that one.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 { fuzzExpressions(data, size) }

// libFuzzer runs the loop (flags as for any libFuzzer binary: corpus folders, -max_total_time, ...).
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzzExpressions(data, size) }))
