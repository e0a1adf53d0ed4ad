import CFuzz
#if canImport(Glibc)
import Glibc
#endif

/// Hands `testOneInput` to libFuzzer's driver with this process's arguments (corpus folders,
/// `-max_total_time`, ... as for any libFuzzer binary) and exits with its status. SwiftPM gives
/// every executable a `main` of its own, so a target calls this instead of linking libFuzzer's;
/// each target also exports its function as `LLVMFuzzerTestOneInput` for when the linker takes
/// libFuzzer's `main` after all.
public func runFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
}
