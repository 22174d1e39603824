"""Container images built without a registry or a Docker daemon (for the local provider)."""
