"""The ``cloudrate`` command line: one module per command group, driving the layers below.

The sample plan and usage the demo rates ship in ``cloudrate/cli/data``.
"""

from ._main import main
from ._samples import sample_plan_path, sample_usage_path

__all__ = ["main", "sample_plan_path", "sample_usage_path"]
