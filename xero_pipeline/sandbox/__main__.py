"""``python -m xero_pipeline.sandbox``: the same as ``xero-pipeline sandbox``."""

import sys

from xero_pipeline.sandbox.command import run_sandbox_command

sys.exit(run_sandbox_command(sys.argv[1:]))
