"""motools-openai: the ``openai`` training backend (OpenAI and OpenAI-compatible endpoints)."""
