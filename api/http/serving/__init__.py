"""How the API is served: uvicorn on a socket we bind, within limits a client cannot get around."""
