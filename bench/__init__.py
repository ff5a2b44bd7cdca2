"""Benchmarks (run as scripts; they print figures and write JSON under bench/results/)."""
