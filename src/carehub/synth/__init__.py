"""The synthetic integrated care system used by the demo, the tests and the benchmarks.

Everything is generated from a seed; NHS numbers are in the 999 test range only, and nothing is
drawn from real patient records.
"""
