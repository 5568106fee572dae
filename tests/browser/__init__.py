"""The console driven in a real Chromium."""
