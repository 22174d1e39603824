"""The course runtime: cluster providers, sample-app images, widgets and the CLI."""
