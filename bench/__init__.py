"""The VizTube benchmark harness: `make bench` runs `bench/run.py`.

Pure, importable parts (wrk output parsing, medians, the table) live in their own modules so that
`tests/bench/` can check them without a server; everything that starts processes is in `run.py`.
"""
