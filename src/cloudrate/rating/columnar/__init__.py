"""Exact columnar batch rating: Arrow tables in, the results of :func:`cloudrate.rate` out.

Requires pyarrow and numpy: ``pip install 'cloudrate[batch]'``. See docs/batch.md.

>>> import cloudrate
>>> from cloudrate.rating.columnar import rate_table, to_table
>>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
>>> usage = cloudrate.read_usage(cloudrate.sample_usage_path())
>>> rate_table(plan, to_table(usage)).totals() == cloudrate.rate(plan, usage).totals()
True
"""

from ._arrow import require

require("pyarrow")
require("numpy")

from ._columns import CORE, SCALE, FixedPointRangeError, to_table  # noqa: E402
from ._fast import account_totals  # noqa: E402
from ._finish import finish, partial_aggregate, period_and_data, rate_table  # noqa: E402
from ._io import ColumnarFile, read_columnar  # noqa: E402
from ._mapper import PARTIAL_DDL, PartialMapper  # noqa: E402
from ._partials import PARTIAL_SCHEMA, combine_partials  # noqa: E402
from .lines import LineColumns, rate_lines  # noqa: E402

__all__ = [
    "CORE",
    "PARTIAL_DDL",
    "PARTIAL_SCHEMA",
    "SCALE",
    "ColumnarFile",
    "FixedPointRangeError",
    "LineColumns",
    "PartialMapper",
    "account_totals",
    "combine_partials",
    "finish",
    "partial_aggregate",
    "period_and_data",
    "rate_lines",
    "rate_table",
    "read_columnar",
    "to_table",
]
