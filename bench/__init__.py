"""Benchmarks: fluxpush against kubectl on synthetic Flux repositories, measured in the same run.

    python -m bench                                        # every size, latency and scenario
    python -m bench --sizes 10x20 --latency 0,20 --scenarios plan

`generate` writes the repositories, `measure` runs one process and reads its wall time and peak
memory, `scenarios` times fluxpush and its kubectl baseline side by side on fresh kubesim
clusters, `report` prints the table and writes JSON to `bench/out/`.
"""
