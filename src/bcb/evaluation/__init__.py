"""Samples in, trustworthy scores out: verdicts, pass@k, ground truth, the result store."""
