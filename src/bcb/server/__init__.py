"""`bcb serve`: evaluation as a service, above the evaluation layer and below the CLI.

It uses ``evaluation`` (the same orchestration, results and store as ``bcb evaluate``) and the
public API of ``execution`` (executors and their sandbox); only ``cli`` imports it.
"""
