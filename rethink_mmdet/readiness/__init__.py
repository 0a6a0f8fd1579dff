"""The scratch-readiness checker (tools/misc/check_scratch_ready.py).

Forward probe, feature strides, init coverage, train-step probe, the
schedule check, the catalogue of MMDetection's backbones and the
extending table (docs/extending.md)."""
