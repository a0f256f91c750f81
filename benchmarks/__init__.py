"""Micro-benchmarks of mql. Run them all with ``python -m benchmarks``.

Each ``bench_*.py`` module here has a ``main(quick: bool) -> None`` that prints its
figures. Timings are never assertions: they are reported, with a ratio against a
baseline measured in the same process so that the machine's speed cancels out.
"""
