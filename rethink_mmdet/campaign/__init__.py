"""Many rows as one campaign: plan, executors (local, Slurm), status, collect.

``tools/campaign.py`` drives it; ``make study`` is a local campaign.
"""
