"""API keys with scopes: read ⊂ operate ⊂ admin."""
