"""The acceptance checks of a GPU node: make gpu-check and the resume check.

Both are stages of ``make gpu-accept`` (install/gpu_accept.py), and run on
CPU processes at toy size in its rehearsal."""
