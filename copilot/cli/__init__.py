"""The `copilot` command line."""
