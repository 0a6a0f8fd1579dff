"""Live tracking that stays one run across requeues and ``--resume``.

mmengine hands each vis backend ``WORK_DIR/TIMESTAMP/vis_data``, a new
folder per process, so every resume of a training (a requeued Slurm job
runs ``tools/train.py --resume``) would start a new TensorBoard run and a
new W&B run. The backends here log per work_dir instead:

* :class:`ResumableTensorboardVisBackend` writes to ``WORK_DIR/tensorboard/``.
  A process killed after checkpoint k may have logged steps k+1..m; the
  resumed process logs k+1.. again. Its writer is made at its first logged
  step s with ``purge_step=s``: TensorBoard's readers then drop every
  earlier event at step >= s, so the run reads as one, each step once.
* :class:`ResumableWandbVisBackend` logs offline by default to
  ``WORK_DIR/wandb/`` with ``resume='allow'`` and the iteration as W&B's
  step, under the run id in ``WORK_DIR/wandb_run_id``, which every resumed
  process keeps (a training started over gets a new one).

``tools/train.py --track tensorboard`` (or ``wandb``) adds them; see
docs/tracking.md.
"""
import os
import os.path as osp
import uuid
from typing import Optional

from mmengine.config import Config
from mmengine.registry import VISBACKENDS
from mmengine.visualization import TensorboardVisBackend, WandbVisBackend
from mmengine.visualization.vis_backend import force_init_env

#: ``--track`` choices and the backend each adds.
TRACKERS = {'tensorboard': 'ResumableTensorboardVisBackend',
            'wandb': 'ResumableWandbVisBackend'}

#: In the work_dir: the W&B run id every process of the training uses.
WANDB_ID_FILE = 'wandb_run_id'


def run_folder(save_dir: str) -> str:
    """The folder of a training's one run, from the ``save_dir`` mmengine's
    Visualizer hands a backend: ``WORK_DIR`` for ``WORK_DIR/TIMESTAMP/
    vis_data``; any other ``save_dir`` (set in the config) is taken as is."""
    save_dir = osp.abspath(save_dir)
    if osp.basename(save_dir) == 'vis_data':
        return osp.dirname(osp.dirname(save_dir))
    return save_dir


@VISBACKENDS.register_module()
class ResumableTensorboardVisBackend(TensorboardVisBackend):
    """TensorBoard events of every process of a training in one folder,
    each step once (see the module docstring).

    Args:
        save_dir: What mmengine's Visualizer passes (its events go to
            :func:`run_folder` ``/tensorboard``).
    """

    def __init__(self, save_dir: str):
        super().__init__(save_dir)
        self._tensorboard = None
        self._config_text: Optional[str] = None

    @property
    def log_dir(self) -> str:
        """Where the events go: ``WORK_DIR/tensorboard``."""
        return osp.join(run_folder(self._save_dir), 'tensorboard')

    def _init_env(self) -> None:
        # Only the folder: the writer waits for the first step to purge from.
        os.makedirs(self.log_dir, exist_ok=True)

    @property
    def experiment(self):
        """The ``SummaryWriter``; None until this process logs a step."""
        return self._tensorboard

    @force_init_env
    def add_config(self, config: Config, **kwargs) -> None:
        """Keeps the config's text for the first step: the Runner adds it
        before any step is known."""
        self._config_text = config.pretty_text

    def _writer_at(self, step: int):
        if self._tensorboard is None:
            from torch.utils.tensorboard import SummaryWriter

            # Step 0 is no training step (tools/test.py's images, a
            # validation without training): purging from it would erase
            # the whole training, so such a process only adds events.
            self._tensorboard = SummaryWriter(
                self.log_dir, purge_step=step if step > 0 else None)
            if self._config_text is not None:
                self._tensorboard.add_text('config', self._config_text, step)
        return self._tensorboard

    @force_init_env
    def add_image(self, name: str, image, step: int = 0, **kwargs) -> None:
        self._writer_at(step)
        super().add_image(name, image, step, **kwargs)
        self._tensorboard.flush()

    @force_init_env
    def add_scalar(self, name: str, value, step: int = 0, **kwargs) -> None:
        self._writer_at(step)
        super().add_scalar(name, value, step, **kwargs)
        self._tensorboard.flush()

    @force_init_env
    def add_scalars(self, scalar_dict: dict, step: int = 0,
                    file_path: Optional[str] = None, **kwargs) -> None:
        self._writer_at(step)
        for key, value in scalar_dict.items():
            TensorboardVisBackend.add_scalar(self, key, value, step)
        # Live, and a killed process keeps what it logged (the writer
        # otherwise holds events up to 2 minutes).
        self._tensorboard.flush()

    def close(self) -> None:
        if self._tensorboard is not None:
            self._tensorboard.close()


def wandb_run_id(folder: str, new: bool = False) -> str:
    """The W&B run id of the training in ``folder``, kept in
    :data:`WANDB_ID_FILE`: made on first use, or anew when ``new`` (a
    training started over), so only a resumed training logs to an id
    that was used before."""
    path = osp.join(folder, WANDB_ID_FILE)
    if osp.exists(path) and not new:
        with open(path) as f:
            run_id = f.read().strip()
        if run_id:
            return run_id
    run_id = uuid.uuid4().hex[:16]
    os.makedirs(folder, exist_ok=True)
    tmp = f'{path}.{os.getpid()}.tmp'
    with open(tmp, 'w') as f:
        f.write(run_id + '\n')
    os.replace(tmp, path)  # never a half-written id
    return run_id


@VISBACKENDS.register_module()
class ResumableWandbVisBackend(WandbVisBackend):
    """One W&B run per training in a work_dir, offline unless asked
    otherwise.

    The run starts at the process's first logged step: a process that
    resumes a checkpoint (``--resume``: the config's ``resume`` and
    ``load_from``) continues the work_dir's run id; one that trains from
    the start makes a new id (W&B cannot erase a run's history, so a
    training started over is a new run); one that only evaluates (step 0)
    uses the id there is.

    Args:
        save_dir: What mmengine's Visualizer passes; the run's folder is
            :func:`run_folder` (``dir``, the id file).
        init_kwargs: ``wandb.init`` arguments over the defaults:
            ``project='rethink-mmdet'``, ``name`` the work_dir's name,
            ``id`` from :func:`wandb_run_id`, ``resume='allow'``, ``mode``
            ``$WANDB_MODE`` or ``'offline'``, ``dir`` the work_dir,
            ``allow_val_change=True`` (a resumed config differs in
            ``resume`` and ``load_from``).
        **kwargs: The other arguments of mmengine's ``WandbVisBackend``
            (``define_metric_cfg``, ``watch_kwargs``; ``commit`` and
            ``log_code_name`` go unused).
    """

    _config: Optional[Config] = None

    def add_config(self, config: Config, **kwargs) -> None:
        """Keeps the config for the run's start (the Runner adds it first,
        before any step)."""
        self._config = config

    def _init_env(self) -> None:
        # What mmengine's own methods (experiment, add_graph) start with.
        self._start(step=0)

    def _start(self, step: int) -> None:
        if getattr(self, '_started', False):
            return
        self._started = True
        import wandb

        folder = run_folder(self._save_dir)
        config = self._config or {}
        resuming = bool(config.get('resume') and config.get('load_from'))
        given = dict(self._init_kwargs or {})
        defaults = dict(project='rethink-mmdet', name=osp.basename(folder),
                        resume='allow', dir=folder, allow_val_change=True,
                        mode=os.environ.get('WANDB_MODE', 'offline'))
        if 'id' not in given:
            defaults['id'] = wandb_run_id(folder,
                                          new=step > 0 and not resuming)
        self._init_kwargs = {**defaults, **given}
        if self._init_kwargs['mode'] == 'offline':
            # The process's settings, not only the run's: with offline
            # given to init alone, wandb 0.31 still looks up its server's
            # address for a telemetry request.
            wandb.setup(settings=wandb.Settings(mode='offline'))
        super()._init_env()
        self._env_initialized = True
        if self._config is not None:
            # Without mmengine's log_code: it would copy every .py file
            # under the working directory, a checkout's .venv/ included.
            self._wandb.config.update(self._config.to_dict(),
                                      allow_val_change=True)

    def add_image(self, name: str, image, step: int = 0, **kwargs) -> None:
        self._start(step)
        # Into the current step's row: a validation's images count their
        # own steps (iteration + image index), which would move W&B's step
        # past the iterations that follow, and W&B drops lower steps.
        self._wandb.log({name: self._wandb.Image(image)}, commit=False)

    def add_scalar(self, name: str, value, step: int = 0, **kwargs) -> None:
        self._start(step)
        self._wandb.log({name: value}, step=step)

    def add_scalars(self, scalar_dict: dict, step: int = 0,
                    file_path: Optional[str] = None, **kwargs) -> None:
        self._start(step)
        # The iteration as W&B's step (mmengine's backend drops it): the
        # curves' x axis, and a training's validation joins its iteration.
        self._wandb.log(dict(scalar_dict), step=step)
