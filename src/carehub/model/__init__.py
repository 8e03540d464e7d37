"""The pure core: frozen, validated definitions with no I/O beyond reading packaged YAML."""
