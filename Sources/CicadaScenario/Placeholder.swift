import CicadaCore
