"""Micro-benchmarks of mql. Run them all with ``python -m benchmarks``.

Each ``bench_*.py`` module here has a ``main()`` that prints its figures; it may
take ``quick: bool`` for a smaller run (``--quick``). Timings are never
assertions: they are reported, with a ratio against a baseline measured in the
same process so that the machine's speed cancels out.
"""
