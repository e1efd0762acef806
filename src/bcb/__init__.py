"""bcb: a fast, safe, faithful harness for the BigCodeBench benchmark."""

__version__ = "0.1.0"
