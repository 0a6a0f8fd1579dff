"""What the data check reports: one problem per kind and file, with a
count and the first example, and the dataset settings that change the
rules (:mod:`.coco_check` applies them)."""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence


@dataclass
class DataProblem:
    """One problem found in a dataset (one kind, with how often it occurs).

    Args:
        file: The annotation file (or folder) it is in.
        message: What is wrong, with ids, and what was expected.
        severity: ``'error'`` (training refuses to start) or ``'warning'``.
        kind: The rule it breaks, without ids (one per kind and file).
        count: How many items break it.
    """
    file: str
    message: str
    severity: str = 'error'
    kind: str = ''
    count: int = 1

    def __str__(self) -> str:
        return f'{self.file}: {self.message}'


@dataclass
class SplitOptions:
    """What the dataset config changes about the check.

    Args:
        classes: The config's class names, if known.
        needs_annotations: Whether an annotation-free file is an error.
        with_mask: The pipeline loads masks (``LoadAnnotations(with_mask=
            True)``), which needs a segmentation on every kept annotation.
        filter_empty_gt: ``filter_cfg.filter_empty_gt`` (training drops
            images without a kept annotation).
        min_size: ``filter_cfg.min_size``: images narrower are dropped.
        keypoints: The dataset is ``CocoKeypointDataset``.
        min_keypoints_per_image: Its training filter.
    """
    classes: Optional[Sequence[str]] = None
    needs_annotations: bool = True
    with_mask: bool = False
    filter_empty_gt: bool = False
    min_size: int = 0
    keypoints: bool = False
    min_keypoints_per_image: int = 0


@dataclass
class Tally:
    """Problems by kind: a count and the first example of each."""
    ann_file: str
    counts: Dict[tuple, int] = field(default_factory=dict)
    examples: Dict[tuple, str] = field(default_factory=dict)

    def add(self, severity: str, what: str, example: str) -> None:
        key = (severity, what)
        if key not in self.counts:
            self.counts[key] = 0
            self.examples[key] = example
        self.counts[key] += 1

    def problems(self) -> List[DataProblem]:
        out = []
        for (severity, what), count in self.counts.items():
            example = self.examples[(severity, what)]
            out.append(DataProblem(
                self.ann_file, f'{what} ({count}x; first: {example})'
                if count > 1 else f'{what} ({example})', severity, what,
                count))
        return out
