"""Runs solutions against their tests: sandboxed, pre-warmed workers."""
