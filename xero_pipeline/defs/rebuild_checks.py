"""Asset checks reconciling the ledger rebuilt from documents, per tenant (``warehouse.rebuild_checks``).

* ``rebuilt_ledger_matches_trial_balance`` on ``xero/report_trial_balance``: every
  account at every month end the report holds;
* ``rebuilt_ledger_matches_profit_and_loss`` on ``xero/report_profit_and_loss``: every
  revenue and expense account in every month held;
* ``rebuilt_ledger_matches_journals`` on ``xero/journals``: by account and month, where
  Xero serves the tenant's journals, so each keeps the other honest.

One step runs all three, after the view ``ledger/document_journal_lines`` and the
reports (which load after the documents, registry ``XeroReport.after``). A comparison
that cannot be made (a side not loaded, the source refused to this app) yields no result
and says why in the log: Dagster shows the planned check as skipped, as the other checks do.
"""

from collections.abc import Callable, Iterator

import dagster as dg

from xero_pipeline.defs.availability import was_unavailable
from xero_pipeline.defs.checks import check_result, check_spec
from xero_pipeline.defs.keys import asset_key
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.defs.tenant_names import named_check, tenant_name
from xero_pipeline.defs.view_assets import view_key
from xero_pipeline.warehouse.check_rules import REPORT_TABLE, Finding
from xero_pipeline.warehouse.connection import Connection
from xero_pipeline.warehouse.rebuild_checks import (
    PROFIT_AND_LOSS_TABLE,
    REBUILT_VIEW,
    check_rebuilt_journals,
    check_rebuilt_profit_and_loss,
    check_rebuilt_trial_balance,
)

REBUILT_TRIAL_BALANCE_CHECK = "rebuilt_ledger_matches_trial_balance"
REBUILT_PROFIT_AND_LOSS_CHECK = "rebuilt_ledger_matches_profit_and_loss"
REBUILT_JOURNALS_CHECK = "rebuilt_ledger_matches_journals"

_CHECKS: tuple[tuple[str, str, str, Callable[[Connection, str], Finding]], ...] = (
    (REBUILT_TRIAL_BALANCE_CHECK, REPORT_TABLE,
     "The ledger rebuilt from documents (ledger.document_journal_lines) equals Xero's TrialBalance for every "
     "account at every month end held; a failure names the accounts, months and differences.",
     check_rebuilt_trial_balance),
    (REBUILT_PROFIT_AND_LOSS_CHECK, PROFIT_AND_LOSS_TABLE,
     "The ledger rebuilt from documents equals Xero's ProfitAndLoss for every revenue and expense account in "
     "every month held; a failure names the accounts, months and differences.",
     check_rebuilt_profit_and_loss),
    (REBUILT_JOURNALS_CHECK, "journals",
     "The ledger rebuilt from documents equals the journals, by account and month (where Xero serves this app "
     "the tenant's journals).",
     check_rebuilt_journals),
)


def build_rebuilt_ledger_checks() -> dg.AssetChecksDefinition:
    """The three reconciliations of the rebuilt ledger: one step, after the view and the reports."""
    after = [view_key(REBUILT_VIEW)]
    specs = [(check_spec(name, table, text, dep_keys=after), table, rule) for name, table, text, rule in _CHECKS]

    @dg.multi_asset_check(name="xero_rebuilt_ledger", specs=[s for s, _, _ in specs], can_subset=True)
    def _rebuilt_ledger(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, xero: XeroResource
    ) -> Iterator[dg.AssetCheckResult]:
        tenant = context.partition_key
        results = []
        for spec, table, rule in specs:
            if spec.key not in context.selected_asset_check_keys:
                continue
            if reason := was_unavailable(context.instance, asset_key(table), tenant):
                context.log.info(f"tenant {tenant}: {table} is not available to this app, so {spec.name} is not "
                                 f"evaluated: {reason}")
                continue
            # Held briefly and through the resource, so it waits for another writer like a merge does.
            with warehouse.get_connection(queries=True) as conn:
                finding = rule(conn, tenant)
            if not finding.evaluated:
                context.log.info(f"{spec.key.asset_key.to_user_string()} {spec.name}: {finding.description}")
                continue
            if not finding.passed:
                context.log.warning(f"{spec.key.asset_key.to_user_string()} {spec.name}: {finding.description}")
            results.append(check_result(spec.key, finding))
        name = tenant_name(context, xero) if results else ""
        yield from (named_check(r, tenant, name) for r in results)

    return _rebuilt_ledger
