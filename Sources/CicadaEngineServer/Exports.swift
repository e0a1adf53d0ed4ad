// The server's API speaks CicadaEngine's types (`EngineConfig`, `BatcherConfig`, `Precision`),
// so importing the server is enough to configure it.
@_exported import CicadaEngine
