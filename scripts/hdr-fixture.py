#!/usr/bin/env python3
"""Prints the HdrHistogram test vector checked in as Tests/CicadaCoreTests/HdrHistogramFixture.swift.

Made with PyPI's `hdrhistogram` package (the `hdrh` module, HdrHistogram's Python port), a known-good
implementation independent of Cicada:  python3 -m venv /tmp/hdr && /tmp/hdr/bin/pip install hdrhistogram==0.10.8
&& /tmp/hdr/bin/python scripts/hdr-fixture.py
With an encoded string as argument, it decodes it instead and prints its buckets (to check that
Cicada's encoding reads back in another implementation).
"""
import sys
from hdrh.histogram import HdrHistogram

if len(sys.argv) > 1:
    h = HdrHistogram.decode(sys.argv[1].encode())
    print(h.get_total_count(), [(v.value_iterated_to, v.count_at_value_iterated_to) for v in h.get_recorded_iterator()])
    sys.exit(0)

h = HdrHistogram(1, 3600000000, 3)
values = [(1, 3), (2, 1), (999, 7), (1000, 2), (2047, 1), (2048, 4), (123456, 11), (5000000, 1),
          (3599999999, 2), (250000, 5000000000)]
for v, c in values:
    h.record_value(v, c)
print("hdrh", "0.10.8")
print("values", values)
print("encoded", h.encode().decode())
print("buckets", [(v.value_iterated_to, v.count_at_value_iterated_to) for v in h.get_recorded_iterator()])
