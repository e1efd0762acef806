"""Generation: turning tasks into model samples the evaluator can score.

The layers, bottom up: `prompts` (the exact text the official harness sends), `registry` (each
backend declared once, by its own module: name, extra, key, defaults, checks, stops, constructor),
`providers` (one small protocol over API and local backends), `cache` (every completion paid for
once), `samples` and `manifest` (the files a run leaves), `runner` (concurrency, retries, resume).
`sanitize` turns a model's answer into the program that is run.
"""
