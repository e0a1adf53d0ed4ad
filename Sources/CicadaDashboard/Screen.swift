/// A key the user pressed, as a ``Screen`` delivers it.
///
/// Printable keys and control characters (tab) come as characters; the terminal's resize
/// notice is a key too, since curses delivers it through the same call.
public enum Key: Sendable, Equatable {
    /// A character key (`"q"`, `"W"`, `"\t"`, ...).
    case character(Character)
    /// The terminal changed size: the next frame must be drawn whole.
    case resize
    /// Any other key code (arrows, function keys), which the dashboard ignores.
    case other(Int32)
}

/// Where the dashboard's frames go and its keys come from: the terminal in the executable, a
/// recording screen in tests.
///
/// The driver seam between the pure dashboard and curses: ``DashboardDriver`` only talks to a
/// screen through this, so the whole key -> action -> frame loop runs in a test with scripted
/// keys and no terminal.
public protocol Screen: AnyObject {
    /// The screen's size in cells.
    var size: (width: Int, height: Int) { get }
    /// Whether the screen shows UTF-8 (braille and box characters) rather than ASCII.
    var unicode: Bool { get }
    /// Draws `frame` (a terminal writes only the cells that changed since the last one).
    func draw(_ frame: Frame)
    /// Forces a full redraw on the next frame (after a resize).
    func invalidate()
    /// The next key, waiting at most a short poll interval (100 ms on a terminal); nil when
    /// none came. The interval paces the driver's loop.
    func readKey() -> Key?
    /// Gives the screen back (leaves curses mode); safe to call more than once.
    func restore()
}
