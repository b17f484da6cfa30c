"""Benchmarks of hierdash's inference methods: ``python -m benchmarks`` (see ``run.py``)."""
