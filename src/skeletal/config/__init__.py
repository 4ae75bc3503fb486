"""Typed run configurations, loaded from short YAML files with command-line overrides.

A config has five sections (model, data, optim, trainer, plus the task name, seed and output folder). Every
field is typed; loading checks the types and rejects unknown keys with the file and key path in the message.
A YAML file may start with ``extends: other.yaml`` (relative to itself) to inherit a base preset and change
a few keys. Overrides are ``key.sub=value`` strings whose value is parsed as YAML (``trainer.max_epochs=3``,
``optim.milestones=[10,20]``, ``model.kwargs.dropout=0.1``).

Example:
    >>> from skeletal.config import load_config
    >>> config = load_config("configs/recognition/demo.yaml", ["trainer.max_epochs=1"])

The package holds the schema (:mod:`skeletal.config.schema`), the checks (:mod:`skeletal.config.validation`)
and the YAML loading (:mod:`skeletal.config.loading`); every name is importable from here.
"""

from skeletal.config.loading import (
    MAX_CONFIG_BYTES,
    MAX_NODES,
    apply_overrides,
    from_dict,
    load_config,
    read_yaml,
    safe_yaml,
    save_config,
)
from skeletal.config.schema import TASKS, Config, DataConfig, ModelConfig, OptimConfig, TrainerConfig
from skeletal.config.validation import (
    ACCELERATORS,
    COMPILE_BACKENDS,
    COMPILE_MODES,
    PRECISIONS,
    RUN_NAME,
    STRATEGIES,
    did_you_mean,
)

__all__ = [
    "ACCELERATORS",
    "COMPILE_BACKENDS",
    "COMPILE_MODES",
    "Config",
    "DataConfig",
    "MAX_CONFIG_BYTES",
    "MAX_NODES",
    "ModelConfig",
    "OptimConfig",
    "PRECISIONS",
    "RUN_NAME",
    "STRATEGIES",
    "TASKS",
    "TrainerConfig",
    "apply_overrides",
    "did_you_mean",
    "from_dict",
    "load_config",
    "read_yaml",
    "safe_yaml",
    "save_config",
]
