"""Benchmarks run by `make bench`: each part measures the archive beside what people would otherwise use."""
