import CicadaDashboard

/// A ``Screen`` for tests: plays scripted keys and records every frame drawn.
final class RecordingScreen: Screen {
    var size: (width: Int, height: Int)
    let unicode: Bool
    /// Keys still to deliver, first first; a nil entry is one poll with no key.
    var script: [Key?]
    private(set) var frames: [Frame] = []
    private(set) var invalidations = 0
    private(set) var restored = false

    init(width: Int = 120, height: Int = 40, unicode: Bool = true, keys: [Key?] = []) {
        size = (width, height); self.unicode = unicode; script = keys
    }

    func draw(_ frame: Frame) { frames.append(frame) }
    func invalidate() { invalidations += 1 }
    func readKey() -> Key? { script.isEmpty ? nil : script.removeFirst() }
    func restore() { restored = true }

    /// Keys for each character of `text`.
    static func keys(_ text: String) -> [Key?] { text.map { .character($0) } }
}
