import CicadaTerminal
import Foundation

/// The UI loop every terminal view shares (`run`'s dashboard, the live sweep, `dash --shards`):
/// turn the view until it is told to quit, a stop signal arrives or the terminal goes away, then
/// give the terminal back.
enum TerminalLoop {
    /// How often the loop checks that its terminal is still there.
    static let hangUpCheckInterval: Duration = .milliseconds(250)

    /// Calls `turn` until `shouldQuit()`, a stop signal, `turn` returning true, or `isGone()` (the
    /// screen's terminal hung up, or the process may no longer read it). Returns true only in the
    /// last case, so the caller decides whether that stops the run as SIGHUP does.
    static func run(isGone: () -> Bool, shouldQuit: () -> Bool, turn: () -> Bool) -> Bool {
        let clock = ContinuousClock()
        var lastCheck = clock.now
        while !shouldQuit() && !stopSignalReceived() {
            if turn() { return false }
            if clock.now - lastCheck >= hangUpCheckInterval {
                lastCheck = clock.now
                if isGone() { return true }
            }
        }
        return false
    }

    /// Runs the loop on a thread of its own named `name`, for a view that runs beside a load
    /// (`run`'s dashboard, the live sweep). A terminal that goes away stops the load as SIGHUP
    /// does, unless SIGHUP is ignored (`nohup`), so a run never goes on unseen by mistake;
    /// `finished` is signalled when the thread ends.
    static func startThread(name: String, isGone: @escaping @Sendable () -> Bool, shouldQuit: @escaping @Sendable () -> Bool,
                            finished: DispatchSemaphore, turn: @escaping @Sendable () -> Void) {
        let t = Thread {
            let gone = run(isGone: isGone, shouldQuit: shouldQuit) { turn(); return false }
            if gone && !signalIsIgnored(SIGHUP) { recordTerminalHangUp() }
            finished.signal()
        }
        t.name = name
        t.start()
    }

    /// Gives the terminal back once the loop has ended. SIGTTOU is ignored from here on:
    /// restoring the terminal's modes (and printing the summary under `stty tostop`) from a
    /// background process group must not stop the process before it writes its reports. On a
    /// hung-up terminal the restore's writes fail at once (EIO).
    static func restore(_ screen: TerminalScreen) {
        signal(SIGTTOU, SIG_IGN)
        screen.restore()
    }
}
