print("cicada")
