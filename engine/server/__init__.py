"""The engine server: HTTP/JSON on loopback, bearer token, FIFO job queue, progress events."""
