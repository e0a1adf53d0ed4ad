/// A foreground colour a cell can take; `.default` is the terminal's own.
///
/// Eight colours only, because that is what every terminal (and `NO_COLOR`-free ncurses
/// without `can_change_color`) renders the same way.
public enum Color: Hashable, Sendable, CaseIterable {
    case `default`, red, green, yellow, blue, magenta, cyan, white
}

/// How a cell is drawn: a foreground colour and attributes.
///
/// With colour off (`NO_COLOR`) the renderer only sets `bold` and `reverse`, so the frame
/// stays readable on any terminal.
public struct Style: Hashable, Sendable {
    /// The foreground colour.
    public var fg: Color
    /// Bold (or bright) text.
    public var bold: Bool
    /// Foreground and background swapped.
    public var reverse: Bool
    /// Dim (faint) text.
    public var dim: Bool

    /// A style; every attribute off by default.
    public init(fg: Color = .default, bold: Bool = false, reverse: Bool = false, dim: Bool = false) {
        self.fg = fg; self.bold = bold; self.reverse = reverse; self.dim = dim
    }

    /// The terminal's default colour, no attributes.
    public static let plain = Style()
}

/// One character cell of a ``Frame``.
///
/// A cell holds exactly one single-width character: the renderer never emits wide (CJK,
/// emoji) characters, so one `Character` is one terminal column.
public struct Cell: Hashable, Sendable {
    /// The character shown.
    public var char: Character
    /// How it is drawn.
    public var style: Style

    /// A cell; a plain space by default.
    public init(_ char: Character = " ", style: Style = .plain) {
        self.char = char; self.style = style
    }

    /// A plain space.
    public static let blank = Cell()
}
