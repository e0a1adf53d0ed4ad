/// Cicada's version: what `cicada --version` prints and the engine's `GET /version` answers.
public enum CicadaVersion {
    public static let current = "0.1.0"
}
