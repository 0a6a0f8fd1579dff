"""Speed and cost against stock MMDetection (tools/analysis_tools/benchmark_*).

Imported on demand by the tools, not by ``rethink_mmdet``: they need nothing
registered beyond what the package registers."""
