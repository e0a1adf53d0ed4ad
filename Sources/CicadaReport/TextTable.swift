/// Column alignment for fixed-width text tables.
///
/// Shared by the summary printer's tables so every table pads, separates and trims the same
/// way (two spaces between columns, no trailing spaces).
struct TextTable {
    enum Align { case left, right }

    var aligns: [Align]
    var rows: [[String]] = []

    init(_ aligns: [Align]) { self.aligns = aligns }

    mutating func add(_ row: [String]) { rows.append(row) }

    /// The table's lines, each prefixed with `indent`.
    func lines(indent: String = "") -> [String] {
        var widths = Array(repeating: 0, count: aligns.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        return rows.map { row in
            var cells: [String] = []
            for (i, cell) in row.enumerated() where i < widths.count {
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                cells.append(aligns[i] == .left ? cell + pad : pad + cell)
            }
            var line = indent + cells.joined(separator: "  ")
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
    }
}
