import CicadaDashboard
import Testing

@Suite struct FrameTests {
    @Test func putClipsAndNeverWraps() {
        var f = Frame(width: 6, height: 2)
        #expect(f.put("hello world", x: 2, y: 0) == 6)
        f.put("abcdef", x: -2, y: 1, maxWidth: 5)
        f.put("ignored", x: 0, y: 5)
        #expect(f.text == "  hell\ncde")
    }

    @Test func controlCharactersBecomeSpaces() {
        var f = Frame(width: 8, height: 1)
        f.put("a\nb\tc", x: 0, y: 0)
        #expect(f.text == "a b c")
    }

    @Test func textTrimsTrailingSpacesPerRow() {
        var f = Frame(width: 5, height: 3)
        f.put("x", x: 1, y: 1)
        #expect(f.text == "\n x\n")
        #expect(f[1, 1].char == "x" && f[9, 9] == .blank)
    }

    @Test func diffReturnsOnlyChangedRuns() throws {
        var a = Frame(width: 10, height: 3)
        a.put("abcdefghij", x: 0, y: 0)
        a.put("0123456789", x: 0, y: 1)
        var b = a
        b.put("XY", x: 2, y: 0)
        b.put("Z", x: 7, y: 0)
        b[5, 1] = Cell("5", style: Style(fg: .red))
        b.put("tail", x: 6, y: 2)
        let d = b.diff(from: a)
        #expect(d.map(\.x) == [2, 7, 5, 6])
        #expect(d.map(\.y) == [0, 0, 1, 2])
        #expect(d.map { String($0.run.map(\.char)) } == ["XY", "Z", "5", "tail"])
        #expect(d[2].run[0].style.fg == .red)
        #expect(a.diff(from: a).isEmpty)
    }

    @Test func diffFromNothingOrAnotherSizeRedrawsEveryRow() {
        let f = Frame(width: 4, height: 3)
        #expect(f.diff(from: nil).map(\.y) == [0, 1, 2])
        #expect(f.diff(from: Frame(width: 5, height: 3)).allSatisfy { $0.x == 0 && $0.run.count == 4 })
    }
}
