import CFuzz
import CicadaScenario
#if canImport(Glibc)
import Glibc
#endif

/// Scenario YAML: any text gives a scenario (with its compare or sweep block) or a list of
/// errors with file:line:column, never a crash or a hang.
func fuzzScenario(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data = input else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    // A folder with no files: `prompts:` names resolve to nothing rather than this machine's files.
    _ = try? ScenarioReader().parseDocument(text, file: "fuzz.yaml", baseDirectory: "/nonexistent-cicada-fuzz")
    return 0
}

/// The entry libFuzzer's own `main` calls, when the linker takes that one.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 { fuzzScenario(data, size) }

// libFuzzer runs the loop (flags as for any libFuzzer binary: corpus folders, -max_total_time, ...).
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzzScenario(data, size) }))
