"""One module per CLI command: each turns parsed arguments into calls on the engine."""
