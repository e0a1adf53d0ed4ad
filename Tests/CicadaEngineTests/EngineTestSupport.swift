import Testing
@testable import CicadaEngine
