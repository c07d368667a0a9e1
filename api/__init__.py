"""The HTTP and websocket API, and the `ioc` command line (the top of the import graph)."""
