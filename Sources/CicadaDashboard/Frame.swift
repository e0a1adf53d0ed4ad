/// A grid of styled cells: what the dashboard renderer produces and a screen draws.
///
/// Pure data, so renderers are tested as golden text (``text``) and a terminal screen only
/// writes the runs ``diff(from:)`` reports as changed (as SwiftTUI and TermKit do), instead of
/// redrawing every cell each frame.
public struct Frame: Sendable, Equatable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// Every cell, row-major: cell (x, y) is at `y * width + x`.
    public private(set) var cells: [Cell]

    /// A frame of blank cells; negative sizes are taken as zero.
    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    /// The cell at column `x`, row `y`. Reading outside the frame gives a blank cell; writing
    /// outside it does nothing, so drawing code never needs to bounds-check.
    public subscript(x: Int, y: Int) -> Cell {
        get { contains(x: x, y: y) ? cells[y * width + x] : .blank }
        set { if contains(x: x, y: y) { cells[y * width + x] = newValue } }
    }

    /// Whether (x, y) lies inside the frame.
    public func contains(x: Int, y: Int) -> Bool { x >= 0 && y >= 0 && x < width && y < height }

    /// Writes `text` on row `y` from column `x`, one character per cell, clipped at the frame's
    /// right edge and at `maxWidth` cells; it never wraps. Control characters (newlines, tabs
    /// from server error text) are drawn as spaces.
    ///
    /// - Returns: the column after the last character written (or clipped).
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: Style = .plain, maxWidth: Int? = nil) -> Int {
        let limit = Swift.min(width, maxWidth.map { x + Swift.max(0, $0) } ?? width)
        var cx = x
        for ch in text {
            if cx >= limit { break }
            let shown: Character = ch.isNewline || ch.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) ? " " : ch
            self[cx, y] = Cell(shown, style: style)
            cx += 1
        }
        return cx
    }

    /// Sets every cell of the rectangle to `cell` (clipped to the frame).
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, with cell: Cell = .blank) {
        let x0 = Swift.max(0, x), x1 = Swift.min(width, x + w)
        let y0 = Swift.max(0, y), y1 = Swift.min(height, y + h)
        guard x0 < x1, y0 < y1 else { return }
        for row in y0..<y1 {
            for col in x0..<x1 { cells[row * width + col] = cell }
        }
    }

    /// The characters only: rows joined by "\n", trailing spaces trimmed on each row.
    /// What golden tests compare.
    public var text: String {
        var rows: [String] = []
        rows.reserveCapacity(height)
        for y in 0..<height {
            var chars = cells[(y * width)..<((y + 1) * width)].map(\.char)
            while chars.last == " " { chars.removeLast() }
            rows.append(String(chars))
        }
        return rows.joined(separator: "\n")
    }

    /// The runs of cells that differ from `old`, row by row, left to right: all a screen
    /// needs to write to turn `old` into this frame. With no old frame, or one of another
    /// size, every row is one run.
    public func diff(from old: Frame?) -> [(x: Int, y: Int, run: [Cell])] {
        var out: [(x: Int, y: Int, run: [Cell])] = []
        guard let old, old.width == width, old.height == height else {
            for y in 0..<height where width > 0 { out.append((0, y, Array(cells[(y * width)..<((y + 1) * width)]))) }
            return out
        }
        for y in 0..<height {
            var x = 0
            while x < width {
                let i = y * width + x
                guard cells[i] != old.cells[i] else { x += 1; continue }
                let start = x
                var run: [Cell] = []
                while x < width, cells[y * width + x] != old.cells[y * width + x] {
                    run.append(cells[y * width + x]); x += 1
                }
                out.append((start, y, run))
            }
        }
        return out
    }
}
