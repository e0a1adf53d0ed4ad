@preconcurrency import CNcursesw
import CicadaDashboard
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The ncurses screen: draws frames (only the cells that changed), reads keys, and always
/// restores the terminal.
///
/// The only Swift file that imports `CNcursesw`. It owns no policy: the dashboard decides what
/// to draw, the composition root decides when to stop. It is the executable's ``Screen``; tests
/// drive the dashboard through a recording one instead.
public final class TerminalScreen: Screen {
    private var previous: Frame?
    private var restored = false
    private let colorPairs: Bool
    /// Whether the terminal shows UTF-8 (braille and box characters) rather than ASCII.
    public let unicode: Bool

    /// Why a screen could not be opened (no terminal, TERM unknown).
    public struct OpenError: Error, CustomStringConvertible { public var description: String }

    /// Opens the screen on stdout/stdin. Install signal handlers before calling this, or
    /// ncurses installs its own that exit without the caller's cleanup.
    public init(color: Bool) throws {
        if setlocale(LC_ALL, "") == nil { setlocale(LC_ALL, "C.UTF-8") }
        let codeset = String(cString: nl_langinfo(nl_item(CODESET)))
        unicode = codeset.uppercased().replacingOccurrences(of: "-", with: "") == "UTF8"
        guard cncurses_newterm() != nil else {
            throw OpenError(description: "cannot open the terminal (TERM=\(String(cString: getenv("TERM") ?? strdup("")!)))")
        }
        colorPairs = cncurses_setup(color ? 1 : 0) == 1
    }

    deinit { restore() }

    /// The terminal's size in cells.
    public var size: (width: Int, height: Int) { (Int(cncurses_cols()), Int(cncurses_lines())) }

    /// Draws `frame`, writing only runs of cells that differ from the last frame drawn.
    public func draw(_ frame: Frame) {
        if let p = previous, p.width != frame.width || p.height != frame.height {
            previous = nil
            clear()
        }
        for run in frame.diff(from: previous) {
            var x = run.x
            var i = 0
            while i < run.run.count {
                // Group cells of one style into one call.
                let style = run.run[i].style
                var text = ""
                var j = i
                while j < run.run.count, run.run[j].style == style { text.append(run.run[j].char); j += 1 }
                _ = cncurses_put(Int32(run.y), Int32(x), text, attributes(style))
                x += j - i
                i = j
            }
        }
        refresh()
        previous = frame
    }

    /// Forces a full redraw on the next frame (after a resize).
    public func invalidate() { previous = nil; clear() }

    /// The next key, waiting at most 100 ms; nil on timeout. `KEY_RESIZE` comes as
    /// ``Key/resize``, codes that are no Unicode scalar (arrows, function keys) as ``Key/other(_:)``.
    public func readKey() -> Key? {
        let k = getch()
        if k == ERR { return nil }
        if k == Self.resizeKey { return .resize }
        guard k >= 0, let scalar = Unicode.Scalar(UInt32(k)) else { return .other(k) }
        return .character(Character(scalar))
    }

    /// The key code ncurses delivers when the terminal was resized.
    public static var resizeKey: Int32 { cncurses_key_resize() }

    /// Whether the terminal has gone away: it was hung up (ssh dropped, the window or tmux pane
    /// closed), so its ioctls fail (EIO) and nothing drawn or read reaches anyone. Reads then
    /// return at once and writes fail, so a dashboard that does not stop spins for nothing.
    public var isGone: Bool {
        var t = termios()
        return tcgetattr(STDOUT_FILENO, &t) != 0 || tcgetattr(STDIN_FILENO, &t) != 0
    }

    /// Leaves curses mode; safe to call more than once, and from every way out.
    public func restore() {
        guard !restored else { return }
        restored = true
        endwin()
    }

    private func attributes(_ s: Style) -> Int32 {
        var a = cncurses_a_normal()
        if s.bold { a |= cncurses_a_bold() }
        if s.reverse { a |= cncurses_a_reverse() }
        if s.dim { a |= cncurses_a_dim() }
        if colorPairs {
            let pair: Int32
            switch s.fg {
            case .red: pair = 1
            case .green: pair = 2
            case .yellow: pair = 3
            case .blue: pair = 4
            case .magenta: pair = 5
            case .cyan: pair = 6
            case .white: pair = 7
            default: pair = 0
            }
            if pair > 0 { a |= cncurses_color_pair(pair) }
        }
        return a
    }
}
